// Per-token log-probabilities of given completion tokens: log_softmax over the vocabulary, then
// GatherElements at the target ids. Used by the training losses and by the forward-only sessions that
// score old-policy and reference log-probs, so both sides compute exactly the same quantity.
import type { GraphBuilder, Tensor } from '@ragrpo/graph';

export const TARGETS = 'targets';

/**
 * logits [B, Tc, V] and an int64 `targets` input [B, Tc] -> log p(target) [B, Tc].
 * `temperature` divides the logits first (the sampling distribution GRPO's ratio must use).
 */
export function tokenLogprobs(g: GraphBuilder, logits: Tensor, opts: { temperature?: number } = {}): { targets: Tensor; logprobs: Tensor } {
  const [B, Tc] = logits.shape;
  const targets = g.input(TARGETS, [B, Tc], 'int64');
  const t = opts.temperature ?? 1;
  if (!(t > 0)) throw new Error(`temperature for log-probs must be > 0, got ${t}`);
  const scaled = t === 1 ? logits : g.mul(logits, g.constant(1 / t));
  const picked = g.logSoftmaxGather(scaled, g.unsqueeze(targets, [2]), 2); // [B, Tc, 1]
  return { targets, logprobs: g.squeeze(picked, [2]) };
}
