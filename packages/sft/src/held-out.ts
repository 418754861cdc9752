import type { Policy, SftExample } from '@ragrpo/model';

/**
 * The SFT loss of the current weights without a gradient: the token mean of -log p over every completion
 * token of every example (the same normalisation as a training step over them as one batch), from
 * `Policy.logprobs` (a forward-only graph).
 */
export async function meanNll(policy: Policy, examples: readonly SftExample[], batchSize: number): Promise<number> {
  const lps = await policy.logprobs(examples, { batchSize: Math.min(batchSize, Math.max(examples.length, 1)) });
  let sum = 0;
  let n = 0;
  for (const lp of lps) for (let t = 0; t < lp.length; t++) { sum -= lp[t]; n++; }
  if (n === 0) throw new Error('no completion tokens to score');
  return sum / n;
}
