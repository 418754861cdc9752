/**
 * Reciprocal rank fusion (Cormack, Clarke & Buettcher 2009): each candidate list contributes
 * 1 / (rrf_k + rank) for every item it holds, rank 1-based; the fused score is the sum.
 * Qdrant's RRF is the same formula written with 0-based positions (1 / (k + position)), so the
 * Qdrant store sends k = rrf_k + 1 to get identical scores.
 *
 * `lists` hold item keys (row indices) best first. Ties in the fused score go to the lower key,
 * so the result is deterministic.
 */
export function reciprocalRankFusion(
  lists: readonly (ArrayLike<number>)[], rrfK: number, limit: number,
): { indices: Int32Array; scores: Float64Array } {
  if (!(rrfK > 0)) throw new Error(`rrf_k must be positive, got ${rrfK}`);
  const fused = new Map<number, number>();
  for (const list of lists) {
    for (let pos = 0; pos < list.length; pos++) {
      const key = list[pos];
      fused.set(key, (fused.get(key) ?? 0) + 1 / (rrfK + pos + 1));
    }
  }
  const ranked = [...fused.entries()].sort((a, b) => (b[1] - a[1]) || (a[0] - b[0])).slice(0, limit);
  return {
    indices: Int32Array.from(ranked, (e) => e[0]),
    scores: Float64Array.from(ranked, (e) => e[1]),
  };
}

/** How many candidates each side of a hybrid search fetches before fusion. */
export function defaultPrefetch(topK: number): number {
  return Math.max(topK * 2, 50);
}
