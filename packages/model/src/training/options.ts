// The trainer's options, inputs and per-step metrics.
import type { SequencePair } from '../graphs/batch-layout.ts';
import type { ImportanceSamplingLevel, LossType } from './grpo-loss.ts';

export interface TrainerOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  schedule?: 'constant' | 'linear' | 'cosine';
  warmupSteps?: number;
  /** Needed by the linear/cosine schedules. */
  totalSteps?: number;
  /** Clip the global gradient norm to this (0 = no clipping). Default 1. */
  maxGradNorm?: number;
  /** Rows per session run; gradients are accumulated over ceil(batch / microBatchSize) runs. Default: whole batch. */
  microBatchSize?: number;
  /** Recompute cheap activations in the backward pass to save memory. */
  recompute?: boolean;
  /** Softmax temperature of the log-probs (GRPO uses the sampling temperature). Default 1. */
  temperature?: number;
  /** Save a checkpoint here every `saveEvery` steps (and keep the last `keepCheckpoints`). */
  checkpointDir?: string;
  saveEvery?: number;
  keepCheckpoints?: number;
  /** Seed of the LoRA dropout masks. */
  seed?: number;
  grpo?: Partial<GrpoOptions>;
}

/** GRPO loss settings, TRL's GRPOConfig names camelCased (TRL's defaults in brackets). */
export interface GrpoOptions {
  /** TRL `epsilon`: lower clip 1 - epsilonLow [0.2] */
  epsilonLow: number;
  /** TRL `epsilon_high`: upper clip 1 + epsilonHigh [= epsilonLow]; for cispo the cap on the ratio itself */
  epsilonHigh: number;
  /** KL coefficient [0: no reference model] */
  beta: number;
  /**
   * TRL `loss_type` ['dapo']: grpo, bnpo, dr_grpo, dapo (normalisations of the clipped surrogate), cispo (its own
   * surrogate, normalised as dapo), sapo (normalised as grpo). `aggregation` is the older name of the same
   * setting; give one or the other (equal when both are given).
   */
  lossType: LossType;
  aggregation: LossType;
  /** max new tokens at sampling: the dr_grpo normaliser [the batch's longest completion] */
  maxCompletionLength: number;
  /** Exclude completions that hit max new tokens without finishing from the loss [false]. */
  maskTruncatedCompletions: boolean;
  /** TRL `importance_sampling_level` ['token']: 'sequence' = GSPO, one ratio per sequence from its mean log-ratio */
  importanceSamplingLevel: ImportanceSamplingLevel;
  /** TRL `delta`: cap on the ratio in the unclipped term (two-sided clipping); unset = no cap */
  delta?: number;
  /**
   * TRL `top_entropy_quantile` [1.0]: train only on tokens whose entropy is at least this quantile's threshold
   * of the micro-batch's completion-token entropies, e.g. 0.2 keeps the top 20 %. Below 1 it costs one
   * forward-only pass over the batch per step (the mask must be known before the training run).
   */
  topEntropyQuantile: number;
  /** TRL `sapo_temperature_pos` / `sapo_temperature_neg` [1.0 / 1.05] */
  sapoTemperaturePos: number;
  sapoTemperatureNeg: number;
}

/** Per-step settings of grpoStep / grpoGradients. */
export interface GrpoStepOptions {
  /**
   * dapo's and cispo's normaliser, TRL's num_items_in_batch: the completion tokens (before truncation masking)
   * of the whole generation batch this step's examples come from. Default: those of this step's batch, which
   * is right when one generation batch is one optimizer step (TRL's default steps_per_generation =
   * gradient_accumulation_steps). Pass it when one generation batch is trained over several grpoStep calls.
   */
  generationBatchTokens?: number;
}

export type SftExample = SequencePair;

export interface GrpoExample extends SequencePair {
  advantage: number;
  /** Log-probs of the completion under the sampling policy; omitted = the current policy (ratio 1, TRL's num_iterations = 1). */
  oldLogprobs?: ArrayLike<number>;
  /** Log-probs under the reference policy; computed from the frozen base when omitted and beta > 0. */
  refLogprobs?: ArrayLike<number>;
  truncated?: boolean;
}

export interface StepMetrics {
  /** 1-based number of the step just taken */
  step: number;
  /** TRL `loss`: the step's loss (sum over micro-batches) */
  loss: number;
  /** TRL `grad_norm`: global gradient norm before clipping */
  gradNorm: number;
  /** TRL `learning_rate`: the rate this step was applied with */
  lr: number;
  /** completion tokens that carried weight */
  tokens: number;
  microBatches: number;
  /** TRL `num_tokens`: prompt + weighted completion tokens of every batch trained on so far (restored by resume) */
  numTokens?: number;
  /** GRPO: coef_1 averaged over the weighted tokens of the step */
  meanRatio?: number;
  /** GRPO: fraction of the weighted tokens whose gradient the surrogate removed (see GrpoLossGraph.clipped) */
  clipFraction?: number;
  // TRL's GRPO metrics. Each is a mean per micro-batch (TRL's per-device batch; the step's batch when
  // microBatchSize is unset), averaged over the step's micro-batches as TRL's logger averages them:
  /** TRL `kl` (beta > 0): mean k3 KL over weighted tokens */
  kl?: number;
  /** TRL `entropy`: mean entropy of softmax(logits / temperature) over weighted tokens */
  entropy?: number;
  /**
   * TRL `clip_ratio/low_mean`: share of weighted tokens with coef_1 < 1 - epsilonLow and A < 0 (coef_1 after the
   * delta cap; at sequence level a share of the micro-batch's sequences). `clipRatioLowMin` is TRL's minimum
   * over processes, the same value on one process; likewise `clipRatioHighMax` for `clip_ratio/high_max`.
   */
  clipRatioLowMean?: number;
  clipRatioLowMin?: number;
  /** TRL `clip_ratio/high_mean`: coef_1 > 1 + epsilonHigh and A > 0 */
  clipRatioHighMean?: number;
  clipRatioHighMax?: number;
  /** TRL `clip_ratio/region_mean`: low or high clipped */
  clipRatioRegionMean?: number;
  /** TRL `cispo_clip_ratio` (loss type cispo): coef_1 > epsilonHigh and A > 0 */
  cispoClipRatio?: number;
  /** wall time of the step's session runs and of clipping + the AdamW update, ms */
  timing?: { forwardBackward: number; optimizer: number };
  checkpoint?: string;
}
