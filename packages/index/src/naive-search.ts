import { checkShapes, type TopKResult } from './dense-topk.ts';

/**
 * The BASELINE the benchmark compares `denseTopK` against: the loop anyone would write first.
 * Per query, per row, one dot product; then a full sort of all n scores. Kept deliberately
 * plain (no blocking, no heap) so the speed-up of `denseTopK` is measured against an honest
 * straightforward implementation. Same order as `denseTopK`: score descending, ties to the
 * lower row index; same float64 sequential sums, so results are identical.
 */
export function naiveDenseTopK(
  queries: Float32Array, nq: number, matrix: Float32Array, n: number, dim: number, k: number,
): TopKResult {
  checkShapes(queries, nq, matrix, n, dim, k);
  const kk = Math.min(k, n);
  const indices = new Int32Array(nq * kk);
  const scores = new Float32Array(nq * kk);
  const all = new Float64Array(n);
  const order = new Array<number>(n);
  for (let q = 0; q < nq; q++) {
    const p = q * dim;
    for (let r = 0; r < n; r++) {
      const o = r * dim;
      let s = 0;
      for (let d = 0; d < dim; d++) s += queries[p + d] * matrix[o + d];
      all[r] = s;
      order[r] = r;
    }
    order.sort((a, b) => (all[b] - all[a]) || (a - b));
    for (let j = 0; j < kk; j++) {
      indices[q * kk + j] = order[j];
      scores[q * kk + j] = all[order[j]];
    }
  }
  return { k: kk, indices, scores };
}
