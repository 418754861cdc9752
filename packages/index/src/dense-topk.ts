import { TopKHeap } from './top-k-heap.ts';

/** Top-k per query, row-major: query q's hits are at [q*k, (q+1)*k), best first. */
export interface TopKResult {
  /** Hits per query: min(k, n). */
  k: number;
  indices: Int32Array;
  scores: Float32Array;
}

/** Queries handled together: the matrix is streamed from memory once per block of queries (64 x 384 floats fit in L2). */
const QUERY_BLOCK = 64;

/**
 * Exact maximum-inner-product top-k of `nq` queries against an `n` x `dim` row-major matrix.
 *
 * Why this shape: the naive loop (per query, per row, one dot product) streams the whole matrix
 * from memory once per query and does two loads per multiply-add. Here queries are taken in blocks
 * of 64 and the matrix in tiles of 4 rows; a micro-kernel computes a 4-row x 4-query tile with
 * sixteen independent accumulators, so each loaded value feeds four multiply-adds and the matrix is
 * streamed once per query block instead of once per query. Top-k is a bounded heap per query
 * (one comparison per score in the common case) instead of a sort of all n scores.
 *
 * Each dot product is still a plain sequential float64 sum over the dimensions, so scores are
 * bit-identical to the naive loop's whatever the blocking, and ties go to the lower row index.
 */
export function denseTopK(
  queries: Float32Array, nq: number, matrix: Float32Array, n: number, dim: number, k: number,
): TopKResult {
  checkShapes(queries, nq, matrix, n, dim, k);
  const kk = Math.min(k, n);
  const indices = new Int32Array(nq * kk);
  const scores = new Float32Array(nq * kk);
  if (kk === 0 || nq === 0) return { k: kk, indices, scores };

  const heaps = Array.from({ length: QUERY_BLOCK }, () => new TopKHeap(kk));
  // The block's queries, padded to a multiple of 4 with zero rows so the kernel needs no query tail.
  const block = new Float32Array(QUERY_BLOCK * dim);
  const tile = new Float64Array(QUERY_BLOCK * 4);
  const rowsInTiles = n - (n % 4);

  for (let q0 = 0; q0 < nq; q0 += QUERY_BLOCK) {
    const qn = Math.min(QUERY_BLOCK, nq - q0);
    const qPadded = Math.ceil(qn / 4) * 4;
    block.fill(0);
    block.set(queries.subarray(q0 * dim, (q0 + qn) * dim));
    for (let h = 0; h < qn; h++) heaps[h].clear();

    for (let r = 0; r < rowsInTiles; r += 4) {
      const o0 = r * dim, o1 = o0 + dim, o2 = o1 + dim, o3 = o2 + dim;
      // The micro-kernel, inlined (a call per tile measurably defeats V8's register allocation):
      // 4 rows x 4 queries, sixteen independent accumulators, 8 loads feeding 16 multiply-adds.
      for (let q = 0; q < qPadded; q += 4) {
        const pa = q * dim, pb = pa + dim, pc = pb + dim, pd = pc + dim;
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
        let c0 = 0, c1 = 0, c2 = 0, c3 = 0, e0 = 0, e1 = 0, e2 = 0, e3 = 0;
        for (let d = 0; d < dim; d++) {
          const x0 = matrix[o0 + d], x1 = matrix[o1 + d], x2 = matrix[o2 + d], x3 = matrix[o3 + d];
          const ya = block[pa + d], yb = block[pb + d], yc = block[pc + d], yd = block[pd + d];
          a0 += x0 * ya; a1 += x1 * ya; a2 += x2 * ya; a3 += x3 * ya;
          b0 += x0 * yb; b1 += x1 * yb; b2 += x2 * yb; b3 += x3 * yb;
          c0 += x0 * yc; c1 += x1 * yc; c2 += x2 * yc; c3 += x3 * yc;
          e0 += x0 * yd; e1 += x1 * yd; e2 += x2 * yd; e3 += x3 * yd;
        }
        const t = q * 4;
        tile[t] = a0; tile[t + 1] = a1; tile[t + 2] = a2; tile[t + 3] = a3;
        tile[t + 4] = b0; tile[t + 5] = b1; tile[t + 6] = b2; tile[t + 7] = b3;
        tile[t + 8] = c0; tile[t + 9] = c1; tile[t + 10] = c2; tile[t + 11] = c3;
        tile[t + 12] = e0; tile[t + 13] = e1; tile[t + 14] = e2; tile[t + 15] = e3;
      }
      for (let q = 0; q < qn; q++) {
        const heap = heaps[q];
        let min = heap.threshold();
        for (let j = 0; j < 4; j++) {
          const s = tile[q * 4 + j];
          // Rows arrive in increasing index, so an equal score never displaces a kept row.
          if (s > min) { heap.push(s, r + j); min = heap.threshold(); }
        }
      }
    }
    // The last n % 4 rows, one dot product at a time.
    for (let r = rowsInTiles; r < n; r++) {
      const o = r * dim;
      for (let q = 0; q < qn; q++) {
        const p = q * dim;
        let s = 0;
        for (let d = 0; d < dim; d++) s += matrix[o + d] * block[p + d];
        if (s > heaps[q].threshold()) heaps[q].push(s, r);
      }
    }
    for (let q = 0; q < qn; q++) {
      const best = heaps[q].sorted();
      const at = (q0 + q) * kk;
      indices.set(best.indices, at);
      for (let j = 0; j < kk; j++) scores[at + j] = best.scores[j];
    }
  }
  return { k: kk, indices, scores };
}

export function checkShapes(queries: Float32Array, nq: number, matrix: Float32Array, n: number, dim: number, k: number): void {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`dense search: dim must be a positive integer, got ${dim}`);
  if (!Number.isInteger(k) || k < 1) throw new Error(`dense search: k must be a positive integer, got ${k}`);
  if (queries.length < nq * dim) throw new Error(`dense search: ${nq} queries of dim ${dim} need ${nq * dim} values, got ${queries.length}`);
  if (matrix.length < n * dim) throw new Error(`dense search: ${n} rows of dim ${dim} need ${n * dim} values, got ${matrix.length}`);
}

