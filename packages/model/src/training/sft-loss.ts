// Supervised fine-tuning loss: negative log-likelihood of the completion tokens. The per-token weights are an
// input computed in JS over the whole optimizer batch (1 / total tokens), so gradient accumulation over
// micro-batches sums to exactly the full-batch token mean.
import type { GraphBuilder, Tensor } from '@ragrpo/graph';

export const LOSS_WEIGHTS = 'loss_weights';

/** loss = -sum(w * logp) with w an input [B, Tc]. */
export function sftLossGraph(g: GraphBuilder, logprobs: Tensor): { weights: Tensor; loss: Tensor } {
  const weights = g.input(LOSS_WEIGHTS, [...logprobs.shape], 'float32');
  const loss = g.neg(g.reduceSum(g.mul(weights, logprobs), [0, 1], false));
  return { weights, loss };
}

