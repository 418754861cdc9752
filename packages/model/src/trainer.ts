// One optimizer step = micro-batches run through the cached training session, gradients summed (the loss
// weights already carry the full-batch normalisation), clipped, and applied by AdamW at the scheduled rate.
// A non-finite loss or gradient stops training with an error naming the step; nothing is applied or saved for
// that step, so the last checkpoint on disk stays the last good state.
import { AdamW, clipGradNorm, globalNorm, learningRate, type Feed } from '@ragrpo/graph';
import { packBatch, packedFeeds, type SequencePair } from './batch-layout.ts';
import { latestCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { ADVANTAGES, aggregationCoefficients, LOSS_AGGREGATIONS, OLD_LOGPROBS, REF_LOGPROBS, type LossAggregation } from './grpo-loss.ts';
import type { Policy } from './policy.ts';
import { Prng } from './prng.ts';
import { LOSS_WEIGHTS } from './sft-loss.ts';
import { buildTrainGraph, dropoutMasks, gradName, trainGraphKey, type TrainGraphSpec, type TrainObjective } from './train-graph.ts';

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

export interface GrpoOptions {
  epsilonLow: number;
  epsilonHigh: number;
  beta: number;
  aggregation: LossAggregation;
  /** max new tokens at sampling: the dr_grpo normaliser */
  maxCompletionLength: number;
  /** Exclude completions that hit max new tokens without finishing from the loss. */
  maskTruncatedCompletions: boolean;
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
  loss: number;
  gradNorm: number;
  lr: number;
  /** completion tokens that carried weight */
  tokens: number;
  microBatches: number;
  /** GRPO: mean ratio, fraction of tokens clipped, mean k3 KL over weighted tokens */
  meanRatio?: number;
  clipFraction?: number;
  kl?: number;
  checkpoint?: string;
}

export class TrainingError extends Error {
  override name = 'TrainingError';
}

const DEFAULT_GRPO: Omit<GrpoOptions, 'maxCompletionLength'> = {
  epsilonLow: 0.2,
  epsilonHigh: 0.2,
  beta: 0,
  aggregation: 'dapo',
  maskTruncatedCompletions: false,
};

export class Trainer {
  readonly policy: Policy;
  readonly opts: TrainerOptions;
  readonly optimizer: AdamW;
  /** Steps completed. */
  step = 0;
  lastCheckpoint: string | null = null;

  constructor(policy: Policy, opts: TrainerOptions) {
    if (policy.params.size === 0) throw new Error("the policy has nothing to train: create it with trainable 'lora' (and an adapter) or 'full'");
    if (!(opts.lr > 0)) throw new Error(`lr must be positive, got ${opts.lr}`);
    if (opts.grpo?.aggregation && !LOSS_AGGREGATIONS.includes(opts.grpo.aggregation)) {
      throw new Error(`grpo.aggregation "${opts.grpo.aggregation}" is not supported; choose ${LOSS_AGGREGATIONS.join(', ')}`);
    }
    this.policy = policy;
    this.opts = opts;
    const params: Record<string, Float32Array> = {};
    for (const [k, w] of policy.params) params[k] = w.data;
    this.optimizer = new AdamW(params, { lr: opts.lr, betas: opts.betas, eps: opts.eps, weightDecay: opts.weightDecay ?? 0 });
  }

  currentLearningRate(): number {
    const o = this.opts;
    return learningRate(this.step, {
      base: o.lr,
      warmupSteps: o.warmupSteps ?? 0,
      totalSteps: o.totalSteps ?? Math.max(this.step + 1, 1),
      schedule: o.schedule ?? 'constant',
    });
  }

  /** One SFT step: token-mean negative log-likelihood of the completions over the whole batch. */
  async sftStep(batch: readonly SftExample[]): Promise<StepMetrics> {
    const tokens = batch.map((e) => e.completionIds.length);
    const total = tokens.reduce((a, b) => a + b, 0);
    if (total === 0) throw new Error(`step ${this.step + 1}: the batch has no completion tokens to train on`);
    return this.runStep(batch, { kind: 'sft' }, tokens.map(() => 1 / total), tokens, () => ({}));
  }

  /** One GRPO step on scored completions (advantages already group-normalised by the caller). */
  async grpoStep(batch: readonly GrpoExample[]): Promise<StepMetrics> {
    const o: GrpoOptions = {
      ...DEFAULT_GRPO,
      maxCompletionLength: Math.max(1, ...batch.map((e) => e.completionIds.length)),
      ...this.opts.grpo,
    };
    batch.forEach((e, i) => {
      if (!Number.isFinite(e.advantage)) throw new TrainingError(`step ${this.step + 1}: example ${i} has a non-finite advantage (${e.advantage}); training stopped`);
      for (const [what, arr] of [['oldLogprobs', e.oldLogprobs], ['refLogprobs', e.refLogprobs]] as const) {
        if (arr && arr.length !== e.completionIds.length) {
          throw new Error(`example ${i}: ${what} has ${arr.length} values for ${e.completionIds.length} completion tokens`);
        }
      }
    });
    const hasOld = batch.map((e) => e.oldLogprobs !== undefined);
    if (hasOld.some((h) => h !== hasOld[0])) throw new Error('either every example carries oldLogprobs or none does');
    const detachOld = !hasOld[0];
    const temperature = this.opts.temperature ?? 1;
    let ref: ArrayLike<number>[] | null = null;
    if (o.beta > 0) {
      const missing = batch.filter((e) => !e.refLogprobs);
      const computed = missing.length ? await this.policy.logprobs(missing, { reference: true, temperature, batchSize: this.microBatchSize(batch.length) }) : [];
      let k = 0;
      ref = batch.map((e) => e.refLogprobs ?? computed[k++]);
    }
    const tokens = batch.map((e) => (o.maskTruncatedCompletions && e.truncated ? 0 : e.completionIds.length));
    const mbSize = this.microBatchSize(batch.length);
    const coefs = aggregationCoefficients(tokens, batch.map((_, i) => Math.floor(i / mbSize)), o.aggregation, o.maxCompletionLength);
    const objective: TrainObjective = { kind: 'grpo', detachOld, epsilonLow: o.epsilonLow, epsilonHigh: o.epsilonHigh, beta: o.beta };
    return this.runStep(batch, objective, coefs, tokens, (rows, B, Tc) => {
      const adv = new Float32Array(B);
      const old = new Float32Array(B * Tc);
      const refLp = new Float32Array(B * Tc);
      rows.forEach((r, i) => {
        adv[i] = batch[r].advantage;
        const ol = batch[r].oldLogprobs;
        if (ol) for (let t = 0; t < ol.length; t++) old[i * Tc + t] = ol[t];
        const rl = ref?.[r];
        if (rl) for (let t = 0; t < rl.length; t++) refLp[i * Tc + t] = rl[t];
      });
      const feeds: Record<string, Feed> = { [ADVANTAGES]: { data: adv, dims: [B, 1] } };
      if (!detachOld) feeds[OLD_LOGPROBS] = { data: old, dims: [B, Tc] };
      if (o.beta > 0) feeds[REF_LOGPROBS] = { data: refLp, dims: [B, Tc] };
      return feeds;
    });
  }

  private microBatchSize(n: number): number {
    const m = this.opts.microBatchSize ?? n;
    if (!Number.isInteger(m) || m < 1) throw new Error(`microBatchSize must be a positive integer, got ${m}`);
    return Math.min(m, n);
  }

  private async runStep(
    batch: readonly SequencePair[],
    objective: TrainObjective,
    rowCoef: readonly number[],
    tokens: readonly number[],
    extraFeeds: (rows: number[], B: number, Tc: number) => Record<string, Feed>,
  ): Promise<StepMetrics> {
    const stepNo = this.step + 1;
    if (batch.length === 0) throw new Error(`step ${stepNo}: empty batch`);
    const policy = this.policy;
    policy.checkPairs(batch);
    const mb = this.microBatchSize(batch.length);
    const Tp = policy.bucket(Math.max(...batch.map((e) => e.promptIds.length)));
    const Tc = policy.bucket(Math.max(1, ...batch.map((e) => e.completionIds.length)));
    const dropout = !!policy.lora && policy.lora.config.dropout > 0;
    const spec: TrainGraphSpec = {
      batch: mb,
      promptLen: Tp,
      completionLen: Tc,
      temperature: this.opts.temperature ?? 1,
      objective,
      recompute: this.opts.recompute ?? false,
      dropout,
    };
    const session = await policy.pool.get(trainGraphKey(spec), () => buildTrainGraph(policy, spec));
    // Dropout masks derive from (seed, step), so a resumed run draws the same masks as an uninterrupted one.
    const rng = new Prng((((this.opts.seed ?? 0) * 1000003) ^ stepNo) >>> 0);
    const names = [...policy.params.keys()];
    // The first micro-batch's gradient buffers (fresh copies out of ORT) become the accumulators.
    const grads: Record<string, Float32Array> = {};
    let loss = 0;
    let microBatches = 0;
    let ratioSum = 0;
    let clipSum = 0;
    let klSum = 0;
    let weightSum = 0;
    for (let start = 0; start < batch.length; start += mb) {
      const rows = Array.from({ length: Math.min(mb, batch.length - start) }, (_, i) => start + i);
      const packed = packBatch(rows.map((r) => batch[r]), { batch: mb, promptLen: Tp, completionLen: Tc, padId: policy.padId(), slidingWindow: policy.config.slidingWindow });
      const weights = new Float32Array(mb * Tc);
      rows.forEach((r, i) => {
        for (let t = 0; t < tokens[r]; t++) weights[i * Tc + t] = rowCoef[r];
      });
      const feeds: Record<string, Feed> = {
        ...policy.paramFeeds(),
        ...packedFeeds(packed),
        [LOSS_WEIGHTS]: { data: weights, dims: [mb, Tc] },
        ...extraFeeds(rows, mb, Tc),
        ...(dropout ? dropoutMasks(policy, mb, Tp + Tc, rng) : {}),
      };
      policy.runs.train++;
      const out = await session.run(feeds);
      const l = (out.loss.data as Float32Array)[0];
      if (!Number.isFinite(l)) {
        throw new TrainingError(
          `step ${stepNo}: loss is ${l} (micro-batch ${microBatches + 1}); training stopped without applying the update` +
            (this.lastCheckpoint ? `; last checkpoint kept at ${this.lastCheckpoint}` : '; no checkpoint was saved yet'),
        );
      }
      loss += l;
      for (const n of names) {
        const g = out[gradName(n)].data as Float32Array;
        const acc = grads[n];
        if (!acc) grads[n] = g;
        else for (let i = 0; i < acc.length; i++) acc[i] += g[i];
      }
      if (objective.kind === 'grpo') {
        const ratio = out.ratio.data as Float32Array;
        const clipped = out.clipped.data as Float32Array;
        const kl = out.kl?.data as Float32Array | undefined;
        rows.forEach((r, i) => {
          for (let t = 0; t < tokens[r]; t++) {
            const k = i * Tc + t;
            ratioSum += ratio[k];
            clipSum += clipped[k];
            if (kl) klSum += kl[k];
            weightSum++;
          }
        });
      }
      microBatches++;
    }
    const maxNorm = this.opts.maxGradNorm ?? 1;
    const gradNorm = maxNorm > 0 ? clipGradNorm(grads, maxNorm) : globalNorm(grads);
    if (!Number.isFinite(gradNorm)) {
      throw new TrainingError(
        `step ${stepNo}: gradient norm is ${gradNorm}; training stopped without applying the update` +
          (this.lastCheckpoint ? `; last checkpoint kept at ${this.lastCheckpoint}` : '; no checkpoint was saved yet'),
      );
    }
    const lr = this.currentLearningRate();
    this.optimizer.step(grads, lr);
    this.step = stepNo;
    const metrics: StepMetrics = { step: stepNo, loss, gradNorm, lr, tokens: tokens.reduce((a, b) => a + b, 0), microBatches };
    if (objective.kind === 'grpo' && weightSum > 0) {
      metrics.meanRatio = ratioSum / weightSum;
      metrics.clipFraction = clipSum / weightSum;
      if (objective.beta > 0) metrics.kl = klSum / weightSum;
    }
    const every = this.opts.saveEvery ?? 0;
    if (this.opts.checkpointDir && every > 0 && stepNo % every === 0) {
      metrics.checkpoint = await this.save();
    }
    return metrics;
  }

  /** Writes a checkpoint (trained tensors, optimizer state, step) under checkpointDir (or `dir`). */
  async save(dir?: string): Promise<string> {
    const root = dir ?? this.opts.checkpointDir;
    if (!root) throw new Error('no checkpoint directory: pass checkpointDir in the trainer options or a dir to save()');
    const path = saveCheckpoint(root, this, { keep: this.opts.keepCheckpoints ?? 2 });
    this.lastCheckpoint = path;
    return path;
  }

  /** Restores trained tensors, optimizer state and step from a checkpoint folder (or the latest under a root). */
  async resume(dir: string): Promise<void> {
    const target = latestCheckpoint(dir) ?? dir;
    loadCheckpoint(target, this);
    this.lastCheckpoint = target;
  }
}

