/**
 * SQuAD v1.1's official metrics (evaluate-v1.1.py), over normalizeAnswer:
 *   exact_match = normalize(prediction) == normalize(truth)
 *   f1          = 2PR / (P + R) over the bag of normalised tokens; 0 when nothing is shared
 *                 (so two empty answers score 0: v1.1 has no empty-answer rule, v2.0 added one).
 * Hand-written: the script is ~30 lines and no maintained npm package reproduces it exactly.
 */
import { answerTokens, normalizeAnswer } from '../text/squad-normalize.ts';

export function exactMatchScore(prediction: string, truth: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(truth) ? 1 : 0;
}

export function f1Score(prediction: string, truth: string): number {
  const pred = answerTokens(prediction);
  const gold = answerTokens(truth);
  const goldCounts = new Map<string, number>();
  for (const t of gold) goldCounts.set(t, (goldCounts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of pred) {
    const c = goldCounts.get(t) ?? 0;
    if (c > 0) { same++; goldCounts.set(t, c - 1); }
  }
  if (same === 0) return 0;
  const precision = same / pred.length;
  const recall = same / gold.length;
  return (2 * precision * recall) / (precision + recall);
}

/**
 * Whether the normalised reference occurs in the normalised prediction as whole tokens
 * ("10" is not found in "100"); null when the reference normalises to nothing (e.g. "The.").
 */
export function containsReference(prediction: string, truth: string): number | null {
  const ref = normalizeAnswer(truth);
  if (ref === '') return null;
  return ` ${normalizeAnswer(prediction)} `.includes(` ${ref} `) ? 1 : 0;
}
