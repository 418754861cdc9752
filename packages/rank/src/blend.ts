// The context order: relevance (the retrieval score) and the POV score blended. Each is min-max
// normalised over the question's retrieved chunks, so the weight means the same whatever the
// scales (BM25 scores run into the tens, POV scores lie in [0, sqrt(#POVs)]):
//   norm(x_i)  = (x_i - min x) / (max x - min x), or 1 for every chunk when all are equal
//   blended_i  = (1 - w) * norm(similarity_i) + w * norm(pov_i)
// w = 0 is the retrieval order, w = 1 seed 002's pure POV order (min-max keeps the order).
// Ties keep the retrieval order.

export function minMaxNormalize(xs: ArrayLike<number>): number[] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < xs.length; i++) { min = Math.min(min, xs[i]); max = Math.max(max, xs[i]); }
  return Array.from(xs, (x) => (max > min ? (x - min) / (max - min) : 1));
}

/** Blended scores and the positions ordered by them (best first); `similarity` is in retrieval order. */
export function blendedOrder(similarity: ArrayLike<number>, povScore: ArrayLike<number>, povWeight: number): { blended: number[]; order: number[] } {
  const rel = minMaxNormalize(similarity);
  const pov = minMaxNormalize(povScore);
  const blended = rel.map((r, i) => (1 - povWeight) * r + povWeight * pov[i]);
  const order = blended.map((_, i) => i).sort((a, b) => blended[b] - blended[a] || a - b);
  return { blended, order };
}

/** The POV weights whose gold-in-context share the rank report lists, so a user can choose one. */
export const POV_WEIGHT_SWEEP = [0, 0.25, 0.5, 0.75, 1];

/**
 * Share of questions with known gold chunks that get one of them into the context (the top `topN`
 * of the blended order), for a POV weight. `questions`: per question, the retrieved chunk ids in
 * retrieval order, their similarity and POV scores, and the gold ids.
 */
export function goldInContextShare(
  questions: { chunkIds: string[]; similarity: number[]; povScore: number[]; gold: string[] }[], topN: number, povWeight: number,
): { questions: number; hits: number; share: number } {
  const withGold = questions.filter((q) => q.gold.length > 0);
  let hits = 0;
  for (const q of withGold) {
    const { order } = blendedOrder(q.similarity, q.povScore, povWeight);
    const gold = new Set(q.gold);
    if (order.slice(0, topN).some((i) => gold.has(q.chunkIds[i]))) hits++;
  }
  return { questions: withGold.length, hits, share: withGold.length ? hits / withGold.length : 0 };
}
