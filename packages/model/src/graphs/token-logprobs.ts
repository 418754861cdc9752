// Per-token log-probabilities of given completion tokens: log_softmax over the vocabulary of the LM head's
// output, at the target ids. Used by the training losses and by the forward-only sessions that score old-policy
// and reference log-probs, so both sides compute exactly the same quantity.
import type { GraphBuilder, Tensor } from '@ragrpo/graph';

export const TARGETS = 'targets';

/**
 * The LM head's input hidden [B, Tc, d] and weight head [d, V] plus an int64 `targets` input [B, Tc] ->
 * log p(target) [B, Tc], through GraphBuilder.linearLogSoftmaxGather (fused gradient, no scaled logits copy).
 * `temperature` divides the logits (the sampling distribution GRPO's ratio must use); it is applied to the
 * hidden states, (h/t)·W = (h·W)/t, a d-wide instead of a vocabulary-wide multiply each way.
 * `entropy: true` also returns the entropy [B, Tc] of that distribution at every position (TRL's
 * entropy_from_logits of logits / temperature), from the same log-softmax (linearLogSoftmaxGatherEntropy).
 */
export function tokenLogprobs(
  g: GraphBuilder,
  lmHead: { hidden: Tensor; head: Tensor },
  opts: { temperature?: number; entropy?: boolean } = {},
): { targets: Tensor; logprobs: Tensor; entropy?: Tensor } {
  const [B, Tc] = lmHead.hidden.shape;
  const targets = g.input(TARGETS, [B, Tc], 'int64');
  const t = opts.temperature ?? 1;
  if (!(t > 0)) throw new Error(`temperature for log-probs must be > 0, got ${t}`);
  const h = t === 1 ? lmHead.hidden : g.mul(lmHead.hidden, g.constant(1 / t));
  const idx = g.unsqueeze(targets, [2]);
  if (!opts.entropy) {
    const picked = g.linearLogSoftmaxGather(h, lmHead.head, idx); // [B, Tc, 1]
    return { targets, logprobs: g.squeeze(picked, [2]) };
  }
  const { logprobs, entropy } = g.linearLogSoftmaxGatherEntropy(h, lmHead.head, idx);
  return { targets, logprobs: g.squeeze(logprobs, [2]), entropy: g.squeeze(entropy, [2]) };
}
