// GRPO objective on per-token log-probs, as TRL's GRPOTrainer._compute_loss computes it:
//   log_ratio = logp - old_logp                       (masked positions: 0)
//   coef_1    = exp(log_ratio)                         token level
//             = exp(sum_t log_ratio / sum_t mask)      sequence level (GSPO), one ratio per sequence
//   clipped surrogate (loss types grpo, bnpo, dr_grpo, dapo):
//     coef_2 = clip(coef_1, 1 - eps_low, 1 + eps_high);  coef_1 capped at delta when set (two-sided clipping)
//     policy term = -min(coef_1 * A, coef_2 * A)
//   cispo: policy term = -stop_gradient(min(coef_1, eps_high)) * A * logp
//   sapo:  policy term = -sigmoid(tau * (coef_1 - 1)) * 4 / tau * A,  tau = tau_pos if A > 0 else tau_neg
//   token loss = policy term * entropy_mask (top_entropy_quantile < 1) + beta * k3,
//   k3 = exp(ref - logp) - (ref - logp) - 1
// The normalisation (grpo | bnpo | dr_grpo | dapo) and the completion mask are folded into per-token weights
// computed in JS for the whole optimizer batch, so micro-batched gradient accumulation sums to exactly the
// full-batch loss whatever the normalisation: loss = sum(token loss * weights).
import type { GraphBuilder, Tensor } from '@ragrpo/graph';
import { LOSS_WEIGHTS } from './sft-loss.ts';

export const OLD_LOGPROBS = 'old_logprobs';
export const REF_LOGPROBS = 'ref_logprobs';
export const ADVANTAGES = 'advantages';
/** [B, Tc] float, 1 where a token's entropy reaches the batch quantile (top_entropy_quantile < 1) */
export const ENTROPY_MASK = 'entropy_mask';

/** How the summed token losses are normalised (TRL's loss_type for the clipped surrogate). */
export type LossAggregation = 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo';
export const LOSS_AGGREGATIONS: readonly LossAggregation[] = ['grpo', 'bnpo', 'dr_grpo', 'dapo'];

/** TRL's loss_type: a normalisation of the clipped surrogate, or cispo (normalised as dapo) or sapo (as grpo). */
export type LossType = LossAggregation | 'cispo' | 'sapo';
export const LOSS_TYPES: readonly LossType[] = [...LOSS_AGGREGATIONS, 'cispo', 'sapo'];

export type ImportanceSamplingLevel = 'token' | 'sequence';

/** The per-token surrogate of a loss type and the normalisation it uses. */
export function lossTypeParts(t: LossType): { surrogate: Surrogate; aggregation: LossAggregation } {
  if (t === 'cispo') return { surrogate: 'cispo', aggregation: 'dapo' };
  if (t === 'sapo') return { surrogate: 'sapo', aggregation: 'grpo' };
  return { surrogate: 'clip', aggregation: t };
}

export type Surrogate = 'clip' | 'cispo' | 'sapo';

export interface GrpoLossOptions {
  epsilonLow: number;
  /** the upper clip (clip surrogate), or the ratio cap (cispo) */
  epsilonHigh: number;
  /** KL coefficient; 0 drops the reference model (and its input) entirely. */
  beta: number;
  /** Default 'clip'. */
  surrogate?: Surrogate;
  /** Default 'token'. */
  importanceSamplingLevel?: ImportanceSamplingLevel;
  /** Upper cap on coef_1 in the unclipped term of the clip surrogate (TRL's delta); unset = none. */
  delta?: number;
  /** Multiply the policy term by an `entropy_mask` input [B, Tc] (top_entropy_quantile < 1). */
  entropyMask?: boolean;
  /** sapo's gate temperatures for positive / non-positive advantages (TRL: 1.0 / 1.05). */
  sapoTemperaturePos?: number;
  sapoTemperatureNeg?: number;
}

export interface GrpoLossGraph {
  loss: Tensor;
  /** [B, Tc] coef_1 (a sequence's ratio repeated over its tokens at sequence level), before the delta cap */
  ratio: Tensor;
  /** [B, Tc] per-token k3 KL (null when beta = 0) */
  kl: Tensor | null;
  /** [B, Tc] 1 where the surrogate removed the gradient: clip active (clip), ratio capped with A > 0 (cispo), never (sapo) */
  clipped: Tensor;
}

/**
 * `detachedOld`: use this tensor (the current log-probs behind a stop-gradient) instead of an `old_logprobs`
 * input: TRL's single-iteration case, where the ratio is exactly 1 and only its gradient matters.
 */
export function grpoLossGraph(g: GraphBuilder, logprobs: Tensor, opts: GrpoLossOptions, detachedOld?: Tensor): GrpoLossGraph {
  const shape = [...logprobs.shape];
  const [B, Tc] = shape;
  const old = detachedOld ?? g.input(OLD_LOGPROBS, shape, 'float32');
  const adv = g.input(ADVANTAGES, [B, 1], 'float32');
  const weights = g.input(LOSS_WEIGHTS, shape, 'float32');
  const c = (v: number) => g.constant(v);
  // Positions without weight (padding, masked completions) get a zero log-difference: whatever values the
  // old/ref inputs hold there, exp() cannot overflow into inf * 0 = NaN in the weighted sum.
  const live = g.cast(g.not(g.equal(weights, 0)), 'float32');
  const logRatio = g.mul(g.sub(logprobs, old), live);
  const ratio =
    opts.importanceSamplingLevel === 'sequence'
      ? g.exp(g.div(g.reduceSum(logRatio, [1], true), g.maximum(g.reduceSum(live, [1], true), c(1)))) // [B, 1]
      : g.exp(logRatio);

  let policyTerm: Tensor;
  let clipped: Tensor;
  switch (opts.surrogate ?? 'clip') {
    case 'clip': {
      const clippedRatio = g.minimum(g.maximum(ratio, c(1 - opts.epsilonLow)), c(1 + opts.epsilonHigh));
      const capped = opts.delta === undefined ? ratio : g.minimum(ratio, c(opts.delta));
      const surr1 = g.mul(capped, adv);
      const surr2 = g.mul(clippedRatio, adv);
      policyTerm = g.neg(g.minimum(surr1, surr2));
      clipped = g.cast(g.less(surr2, surr1), 'float32');
      break;
    }
    case 'cispo': {
      const weight = g.stopGradient(g.minimum(ratio, c(opts.epsilonHigh)));
      policyTerm = g.neg(g.mul(g.mul(weight, adv), logprobs));
      clipped = g.cast(g.and(g.greater(ratio, c(opts.epsilonHigh)), g.greater(adv, c(0))), 'float32');
      break;
    }
    case 'sapo': {
      const tau = g.where(g.greater(adv, c(0)), c(opts.sapoTemperaturePos ?? 1), c(opts.sapoTemperatureNeg ?? 1.05)); // [B, 1]
      const gate = g.div(g.mul(g.sigmoid(g.mul(tau, g.sub(ratio, c(1)))), c(4)), tau);
      policyTerm = g.neg(g.mul(gate, adv));
      clipped = g.zeros(shape);
      break;
    }
  }
  let tokenLoss = opts.entropyMask ? g.mul(policyTerm, g.input(ENTROPY_MASK, shape, 'float32')) : policyTerm;
  let kl: Tensor | null = null;
  if (opts.beta > 0) {
    const ref = g.input(REF_LOGPROBS, shape, 'float32');
    const diff = g.mul(g.sub(ref, logprobs), live);
    kl = g.sub(g.sub(g.exp(diff), diff), c(1));
    tokenLoss = g.add(tokenLoss, g.mul(kl, c(opts.beta)));
  }
  const loss = g.reduceSum(g.mul(tokenLoss, weights), [0, 1], false);
  const perToken = (t: Tensor) => (t.shape[1] === Tc ? t : g.expand(t, shape));
  return { loss, ratio: perToken(ratio), kl, clipped: perToken(clipped) };
}

/**
 * Per-sequence weight multipliers (token weight = mask * coef[row]), TRL's normalisers with one process:
 * `tokens[b]`: real (unmasked) completion tokens of row b; `microBatch[b]`: which micro-batch row b is in;
 * `dapoTokens`: dapo's denominator, TRL's num_items_in_batch (the completion tokens of the whole generation
 * batch, counted before truncated completions are masked); default: the sum of `tokens`.
 */
export function aggregationCoefficients(
  tokens: readonly number[],
  microBatch: readonly number[],
  aggregation: LossAggregation,
  maxCompletionLength: number,
  dapoTokens?: number,
): number[] {
  const n = tokens.length;
  switch (aggregation) {
    case 'grpo':
      // mean over each sequence's tokens, then mean over sequences
      return tokens.map((k) => 1 / (Math.max(k, 1) * n));
    case 'dr_grpo':
      return tokens.map(() => 1 / (n * maxCompletionLength));
    case 'dapo': {
      const total = dapoTokens ?? tokens.reduce((a, b) => a + b, 0);
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
