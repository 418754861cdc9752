import { parseOptions } from '../registry/options.ts';
import { answerTokens } from '../text/squad-normalize.ts';
import type { RewardFunction } from '../types.ts';
import { NoOptions } from './no-options.ts';

/**
 * The share of the answer's tokens that occur in the context (both SQuAD-normalised, so case,
 * punctuation and articles do not count): a cheap check that the answer copies from what it was
 * given rather than inventing. Every occurrence counts, so a repeated invented word weighs more.
 * An empty answer scores 0 (nothing grounded was said).
 */
export function contextFaithfulness(answer: string, context: string): number {
  const tokens = answerTokens(answer);
  if (tokens.length === 0) return 0;
  const known = new Set(answerTokens(context));
  return tokens.filter((t) => known.has(t)).length / tokens.length;
}

/** context_faithfulness: share of the answer's normalised tokens found in the context. */
export function createContextFaithfulnessReward(options: unknown): RewardFunction {
  parseOptions('context_faithfulness', NoOptions, options);
  return (batch) => batch.completions.map((c, i) => contextFaithfulness(c, batch.columns.context[i] ?? ''));
}
