// GRPO objective on per-token log-probs (the formulation of TRL's GRPOTrainer):
//   ratio = exp(logp - old_logp)
//   token loss = -min(ratio * A, clip(ratio, 1 - eps_low, 1 + eps_high) * A) + beta * k3KL
//   k3KL = exp(ref - logp) - (ref - logp) - 1
// The aggregation (grpo | bnpo | dr_grpo | dapo) and the completion mask are folded into per-token weights
// computed in JS for the whole optimizer batch, so micro-batched gradient accumulation sums to exactly the
// full-batch loss whatever the aggregation.
import type { GraphBuilder, Tensor } from '@ragrpo/graph';
import { LOSS_WEIGHTS } from './sft-loss.ts';

export const OLD_LOGPROBS = 'old_logprobs';
export const REF_LOGPROBS = 'ref_logprobs';
export const ADVANTAGES = 'advantages';

export type LossAggregation = 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo';
export const LOSS_AGGREGATIONS: readonly LossAggregation[] = ['grpo', 'bnpo', 'dr_grpo', 'dapo'];

export interface GrpoLossOptions {
  epsilonLow: number;
  epsilonHigh: number;
  /** KL coefficient; 0 drops the reference model (and its input) entirely. */
  beta: number;
}

export interface GrpoLossGraph {
  loss: Tensor;
  /** [B, Tc] */
  ratio: Tensor;
  /** [B, Tc] per-token k3 KL (zeros when beta = 0) */
  kl: Tensor | null;
  /** [B, Tc] 1 where the ratio was clipped in the direction that removes the gradient */
  clipped: Tensor;
}

/**
 * `detachedOld`: use this tensor (the current log-probs behind a stop-gradient) instead of an `old_logprobs`
 * input: TRL's single-iteration case, where the ratio is exactly 1 and only its gradient matters.
 */
export function grpoLossGraph(g: GraphBuilder, logprobs: Tensor, opts: GrpoLossOptions, detachedOld?: Tensor): GrpoLossGraph {
  const shape = [...logprobs.shape];
  const [B] = shape;
  const old = detachedOld ?? g.input(OLD_LOGPROBS, shape, 'float32');
  const adv = g.input(ADVANTAGES, [B, 1], 'float32');
  const weights = g.input(LOSS_WEIGHTS, shape, 'float32');
  const c = (v: number) => g.constant(v);
  // Positions without weight (padding, masked completions) get a zero log-difference: whatever values the
  // old/ref inputs hold there, exp() cannot overflow into inf * 0 = NaN in the weighted sum.
  const live = g.cast(g.not(g.equal(weights, 0)), 'float32');
  const ratio = g.exp(g.mul(g.sub(logprobs, old), live));
  const clippedRatio = g.minimum(g.maximum(ratio, c(1 - opts.epsilonLow)), c(1 + opts.epsilonHigh));
  const surr1 = g.mul(ratio, adv);
  const surr2 = g.mul(clippedRatio, adv);
  let tokenLoss = g.neg(g.minimum(surr1, surr2));
  let kl: Tensor | null = null;
  if (opts.beta > 0) {
    const ref = g.input(REF_LOGPROBS, shape, 'float32');
    const diff = g.mul(g.sub(ref, logprobs), live);
    kl = g.sub(g.sub(g.exp(diff), diff), c(1));
    tokenLoss = g.add(tokenLoss, g.mul(kl, c(opts.beta)));
  }
  const loss = g.reduceSum(g.mul(tokenLoss, weights), [0, 1], false);
  const clipped = g.cast(g.less(surr2, surr1), 'float32');
  return { loss, ratio, kl, clipped };
}

/**
 * Per-sequence weight multipliers (token weight = mask * coef[row]).
 * `tokens[b]`: real (unmasked) completion tokens of row b; `microBatch[b]`: which micro-batch row b is in.
 */
export function aggregationCoefficients(
  tokens: readonly number[],
  microBatch: readonly number[],
  aggregation: LossAggregation,
  maxCompletionLength: number,
): number[] {
  const n = tokens.length;
  switch (aggregation) {
    case 'grpo':
      // mean over each sequence's tokens, then mean over sequences
      return tokens.map((k) => 1 / (Math.max(k, 1) * n));
    case 'dr_grpo':
      return tokens.map(() => 1 / (n * maxCompletionLength));
    case 'dapo': {
      const total = tokens.reduce((a, b) => a + b, 0);
      return tokens.map(() => 1 / Math.max(total, 1));
    }
    case 'bnpo': {
      // token mean within each micro-batch, then mean over micro-batches (TRL's per-step normalisation)
      const perMb = new Map<number, number>();
      tokens.forEach((k, i) => perMb.set(microBatch[i], (perMb.get(microBatch[i]) ?? 0) + k));
      const mbs = perMb.size;
      return tokens.map((_, i) => 1 / (Math.max(perMb.get(microBatch[i])!, 1) * mbs));
    }
  }
}

/**
 * Group-relative advantages as in GRPO: each reward minus its group's mean, divided by the group's standard
 * deviation (unbiased, as torch.std) + 1e-4 when `scale` is 'group' (TRL's default), by the batch standard
 * deviation for 'batch', or not at all for 'none' (Dr. GRPO). `rewards` are laid out group after group.
 */
export function groupAdvantages(rewards: readonly number[], groupSize: number, scale: 'group' | 'batch' | 'none' = 'group'): number[] {
  if (!Number.isInteger(groupSize) || groupSize < 1 || rewards.length % groupSize !== 0) {
    throw new Error(`${rewards.length} rewards do not split into groups of ${groupSize}`);
  }
  rewards.forEach((r, i) => {
    if (!Number.isFinite(r)) throw new Error(`reward ${i} is ${r}; rewards must be finite numbers`);
  });
  const std = (xs: readonly number[]) => {
    if (xs.length < 2) return 0;
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  };
  const batchStd = std(rewards);
  const out: number[] = [];
  for (let start = 0; start < rewards.length; start += groupSize) {
    const group = rewards.slice(start, start + groupSize);
    const mean = group.reduce((a, b) => a + b, 0) / groupSize;
    const s = scale === 'group' ? std(group) : scale === 'batch' ? batchStd : null;
    for (const r of group) out.push(s === null ? r - mean : (r - mean) / (s + 1e-4));
  }
  return out;
}
