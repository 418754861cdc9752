// One optimizer step = the batch's micro-batches run through the cached training session (micro-batches.ts),
// their gradients summed (the loss inputs already carry the full-batch normalisation), clipped, and applied by
// AdamW at the scheduled rate. sftStep and grpoStep differ only in the loss graph and the loss inputs they feed
// (grpo-step.ts builds GRPO's and reads its metrics back).
// A non-finite loss or gradient stops training with an error naming the step; nothing is applied or saved for
// that step, so the last checkpoint on disk stays the last good state.
import { AdamW, clipGradNorm, globalNorm, learningRate } from '@ragrpo/graph';
import type { SequencePair } from '../graphs/batch-layout.ts';
import type { Policy } from '../policy/policy.ts';
import { Prng } from '../prng.ts';
import { latestCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import {
  checkGrpoBatch,
  checkGrpoOptions,
  grpoLossOptions,
  grpoMetrics,
  GRPO_METRIC_OUTPUTS,
  grpoOptions,
  grpoRowInputs,
  highEntropyMask,
  weightedTokens,
} from './grpo-step.ts';
import { NonFiniteLoss, runMicroBatches, stepLayout, type MicroBatchResult, type RowInput, type StepLayout } from './micro-batches.ts';
import type { GrpoExample, GrpoStepOptions, SftExample, StepMetrics, TrainerOptions } from './options.ts';
import { LOSS_WEIGHTS } from './sft-loss.ts';
import { buildTrainGraph, trainGraphKey, type TrainObjective } from './train-graph.ts';
import { stoppedAt } from './training-error.ts';

export type { GrpoExample, GrpoOptions, GrpoStepOptions, SftExample, StepMetrics, TrainerOptions } from './options.ts';
export { TrainingError } from './training-error.ts';

/** One GRPO step's loss, summed gradients (before clipping) and metrics, not applied. */
export interface GrpoGradients {
  loss: number;
  grads: Record<string, Float32Array>;
  metrics: StepMetrics;
}

export class Trainer {
  readonly policy: Policy;
  readonly opts: TrainerOptions;
  readonly optimizer: AdamW;
  /** Steps completed. */
  step = 0;
  /** Prompt + weighted completion tokens of every batch trained on (TRL's num_tokens); saved in checkpoints. */
  tokensSeen = 0;
  lastCheckpoint: string | null = null;

  constructor(policy: Policy, opts: TrainerOptions) {
    if (policy.params.size === 0) throw new Error("the policy has nothing to train: create it with trainable 'lora' (and an adapter) or 'full'");
    if (!(opts.lr > 0)) throw new Error(`lr must be positive, got ${opts.lr}`);
    checkGrpoOptions(opts.grpo);
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
    const layout = this.layout(batch);
    const weights = new Float32Array(batch.length * layout.completionLen);
    tokens.forEach((k, r) => weights.fill(1 / total, r * layout.completionLen, r * layout.completionLen + k));
    const run = await this.runMicroBatches(batch, layout, { kind: 'sft' }, { [LOSS_WEIGHTS]: { data: weights, width: layout.completionLen } });
    return this.applyStep(run, this.stepMetrics(run, batch, tokens, {}));
  }

  /** One GRPO step on scored completions (advantages already group-normalised by the caller). */
  async grpoStep(batch: readonly GrpoExample[], stepOpts: GrpoStepOptions = {}): Promise<StepMetrics> {
    const { run, metrics } = await this.grpoRun(batch, stepOpts);
    return this.applyStep(run, metrics);
  }

  /**
   * What grpoStep would apply: the loss, the summed gradients before clipping and the metrics (gradNorm is their
   * norm), leaving parameters, optimizer and step untouched (tests, gradient checks, debugging).
   */
  async grpoGradients(batch: readonly GrpoExample[], stepOpts: GrpoStepOptions = {}): Promise<GrpoGradients> {
    const { run, metrics } = await this.grpoRun(batch, stepOpts);
    return { loss: run.loss, grads: run.grads, metrics: { ...metrics, gradNorm: globalNorm(run.grads) } };
  }

  private async grpoRun(batch: readonly GrpoExample[], stepOpts: GrpoStepOptions): Promise<{ run: MicroBatchResult; metrics: StepMetrics }> {
    const o = grpoOptions(batch, this.opts.grpo);
    const { detachOld } = checkGrpoBatch(batch, this.step + 1);
    const generationBatchTokens = stepOpts.generationBatchTokens;
    if (generationBatchTokens !== undefined && !(Number.isInteger(generationBatchTokens) && generationBatchTokens >= 1)) {
      throw new Error(`generationBatchTokens must be a positive integer, got ${generationBatchTokens}`);
    }
    const ref = o.beta > 0 ? await this.referenceLogprobs(batch) : null;
    const tokens = weightedTokens(batch, o);
    const layout = this.layout(batch);
    const entropyMask = o.topEntropyQuantile < 1 ? highEntropyMask(await this.entropies(batch, layout), tokens, layout, o.topEntropyQuantile) : null;
    const objective: TrainObjective = { kind: 'grpo', detachOld, ...grpoLossOptions(o) };
    const inputs = grpoRowInputs(batch, layout, o, { tokens, detachOld, ref, entropyMask, generationBatchTokens });
    const run = await this.runMicroBatches(batch, layout, objective, inputs, GRPO_METRIC_OUTPUTS);
    return { run, metrics: this.stepMetrics(run, batch, tokens, grpoMetrics(run, batch, tokens, layout, o)) };
  }

  /** Log-probs under the frozen base (the KL reference) for the examples that do not carry them. */
  private async referenceLogprobs(batch: readonly GrpoExample[]): Promise<ArrayLike<number>[]> {
    const missing = batch.filter((e) => !e.refLogprobs);
    const temperature = this.opts.temperature ?? 1;
    const computed = missing.length ? await this.policy.logprobs(missing, { reference: true, temperature, batchSize: this.microBatchSize(batch.length) }) : [];
    let k = 0;
    return batch.map((e) => e.refLogprobs ?? computed[k++]);
  }

  /** Per-token entropies under the current policy: one forward-only pass with the step's micro-batch shape. */
  private async entropies(batch: readonly GrpoExample[], layout: StepLayout): Promise<Float32Array[]> {
    const temperature = this.opts.temperature ?? 1;
    return (await this.policy.tokenEntropies(batch, { temperature, batchSize: layout.microBatch })).entropies;
  }

  private microBatchSize(n: number): number {
    const m = this.opts.microBatchSize ?? n;
    if (!Number.isInteger(m) || m < 1) throw new Error(`microBatchSize must be a positive integer, got ${m}`);
    return Math.min(m, n);
  }

  /** Checks the batch and fixes the static shape of its micro-batches. */
  private layout(batch: readonly SequencePair[]): StepLayout {
    if (batch.length === 0) throw new Error(`step ${this.step + 1}: empty batch`);
    this.policy.checkPairs(batch);
    return stepLayout(this.policy, batch, this.microBatchSize(batch.length));
  }

  /** Forward + backward over every micro-batch of the step, through the session cached for this shape. */
  private async runMicroBatches(
    batch: readonly SequencePair[],
    layout: StepLayout,
    objective: TrainObjective,
    inputs: Record<string, RowInput>,
    metricOutputs: readonly string[] = [],
  ): Promise<MicroBatchResult> {
    const policy = this.policy;
    const stepNo = this.step + 1;
    const dropout = !!policy.lora && policy.lora.config.dropout > 0;
    const spec = {
      batch: layout.microBatch,
      promptLen: layout.promptLen,
      completionLen: layout.completionLen,
      temperature: this.opts.temperature ?? 1,
      objective,
      recompute: this.opts.recompute ?? false,
      dropout,
    };
    const session = await policy.pool.get(trainGraphKey(spec), () => buildTrainGraph(policy, spec));
    // Dropout masks derive from (seed, step), so a resumed run draws the same masks as an uninterrupted one.
    const dropoutRng = dropout ? new Prng((((this.opts.seed ?? 0) * 1000003) ^ stepNo) >>> 0) : null;
    try {
      return await runMicroBatches(policy, session, batch, layout, inputs, { dropoutRng, metricOutputs });
    } catch (e) {
      if (e instanceof NonFiniteLoss) throw stoppedAt(stepNo, e.message, this.lastCheckpoint);
      throw e;
    }
  }

  /** The metrics of the step about to be applied (gradNorm is filled in by applyStep). */
  private stepMetrics(run: MicroBatchResult, batch: readonly SequencePair[], tokens: readonly number[], extra: Partial<StepMetrics>): StepMetrics {
    const weighted = tokens.reduce((a, b) => a + b, 0);
    const numTokens = this.tokensSeen + batch.reduce((a, e) => a + e.promptIds.length, 0) + weighted;
    const base = { step: this.step + 1, loss: run.loss, gradNorm: NaN, lr: this.currentLearningRate(), tokens: weighted, microBatches: run.microBatches };
    return { ...base, ...extra, numTokens };
  }

  /** Clips and applies the summed gradients, advances the step, and saves a checkpoint when one is due. */
  private async applyStep(run: MicroBatchResult, metrics: StepMetrics): Promise<StepMetrics> {
    const stepNo = this.step + 1;
    const t0 = performance.now();
    const maxNorm = this.opts.maxGradNorm ?? 1;
    const gradNorm = maxNorm > 0 ? clipGradNorm(run.grads, maxNorm) : globalNorm(run.grads);
    if (!Number.isFinite(gradNorm)) throw stoppedAt(stepNo, `gradient norm is ${gradNorm}`, this.lastCheckpoint);
    this.optimizer.step(run.grads, metrics.lr);
    metrics.gradNorm = gradNorm;
    metrics.timing = { forwardBackward: run.ms, optimizer: performance.now() - t0 };
    this.step = stepNo;
    this.tokensSeen = metrics.numTokens ?? this.tokensSeen;
    const every = this.opts.saveEvery ?? 0;
    if (this.opts.checkpointDir && every > 0 && stepNo % every === 0) {
      metrics.checkpoint = await this.save();
    }
    return metrics;
  }

  /** Writes a checkpoint (trained tensors, optimizer state, step, tokens seen) under checkpointDir (or `dir`). */
  async save(dir?: string): Promise<string> {
    const root = dir ?? this.opts.checkpointDir;
    if (!root) throw new Error('no checkpoint directory: pass checkpointDir in the trainer options or a dir to save()');
    const path = saveCheckpoint(root, this, { keep: this.opts.keepCheckpoints ?? 2 });
    this.lastCheckpoint = path;
    return path;
  }

  /** Restores trained tensors, optimizer state, step and tokens seen from a checkpoint folder (or the latest under a root). */
  async resume(dir: string): Promise<void> {
    const target = latestCheckpoint(dir) ?? dir;
    loadCheckpoint(target, this);
    this.lastCheckpoint = target;
  }
}
