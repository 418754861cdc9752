// What a GRPO step adds to the shared micro-batch runner: its options with TRL's defaults, checks on the
// scored completions, the loss inputs of every row (advantages, old/reference log-probs, token weights, the
// high-entropy mask) and TRL's metrics read back from the micro-batches' outputs.
import type { StepLayout, MicroBatchResult, RowInput } from './micro-batches.ts';
import {
  ADVANTAGES,
  aggregationCoefficients,
  ENTROPY_MASK,
  LOSS_TYPES,
  lossTypeParts,
  OLD_LOGPROBS,
  REF_LOGPROBS,
  type GrpoLossOptions,
  type LossType,
} from './grpo-loss.ts';
import type { GrpoExample, GrpoOptions, StepMetrics } from './options.ts';
import { LOSS_WEIGHTS } from './sft-loss.ts';
import { TrainingError } from './training-error.ts';

/** Refuses settings TRL would refuse (or that mean nothing), naming the option. */
export function checkGrpoOptions(given: Partial<GrpoOptions> | undefined): void {
  if (!given) return;
  const { lossType, aggregation } = given;
  for (const [k, v] of [['aggregation', aggregation], ['lossType', lossType]] as const) {
    if (v !== undefined && !LOSS_TYPES.includes(v)) throw new Error(`grpo.${k} "${v}" is not supported; choose ${LOSS_TYPES.join(', ')}`);
  }
  if (lossType !== undefined && aggregation !== undefined && lossType !== aggregation) {
    throw new Error(`grpo.lossType "${lossType}" and grpo.aggregation "${aggregation}" disagree; give lossType only`);
  }
  const level = given.importanceSamplingLevel;
  if (level != null && level !== 'token' && level !== 'sequence') throw new Error(`grpo.importanceSamplingLevel must be 'token' or 'sequence', got ${JSON.stringify(level)}`);
  const positive = { delta: given.delta, sapoTemperaturePos: given.sapoTemperaturePos, sapoTemperatureNeg: given.sapoTemperatureNeg };
  // null is TRL's None: unset
  for (const [k, v] of Object.entries(positive)) if (v != null && !(v > 0 && Number.isFinite(v))) throw new Error(`grpo.${k} must be a positive number, got ${v}`);
  for (const k of ['epsilonLow', 'epsilonHigh', 'beta'] as const) {
    const v = given[k];
    if (v != null && !(v >= 0 && Number.isFinite(v))) throw new Error(`grpo.${k} must be a number >= 0, got ${v}`);
  }
  const q = given.topEntropyQuantile;
  if (q != null && !(q >= 0 && q <= 1)) throw new Error(`grpo.topEntropyQuantile must be in [0, 1], got ${q}`);
}

/** The trainer's grpo options over TRL's defaults; maxCompletionLength defaults to the batch's longest completion. */
export function grpoOptions(batch: readonly GrpoExample[], given: Partial<GrpoOptions> = {}): GrpoOptions {
  const lossType: LossType = given.lossType ?? given.aggregation ?? 'dapo';
  const epsilonLow = given.epsilonLow ?? 0.2;
  return {
    epsilonLow,
    epsilonHigh: given.epsilonHigh ?? epsilonLow,
    beta: given.beta ?? 0,
    lossType,
    aggregation: lossType,
    maxCompletionLength: given.maxCompletionLength ?? Math.max(1, ...batch.map((e) => e.completionIds.length)),
    maskTruncatedCompletions: given.maskTruncatedCompletions ?? false,
    importanceSamplingLevel: given.importanceSamplingLevel ?? 'token',
    delta: given.delta ?? undefined,
    topEntropyQuantile: given.topEntropyQuantile ?? 1,
    sapoTemperaturePos: given.sapoTemperaturePos ?? 1,
    sapoTemperatureNeg: given.sapoTemperatureNeg ?? 1.05,
  };
}

/** The loss graph's settings for these options (only what changes the graph). */
export function grpoLossOptions(o: GrpoOptions): GrpoLossOptions {
  const surrogate = lossTypeParts(o.lossType).surrogate;
  const l: GrpoLossOptions = { epsilonLow: o.epsilonLow, epsilonHigh: o.epsilonHigh, beta: o.beta };
  if (surrogate !== 'clip') l.surrogate = surrogate;
  if (o.importanceSamplingLevel === 'sequence') l.importanceSamplingLevel = 'sequence';
  if (surrogate === 'clip' && o.delta !== undefined) l.delta = o.delta;
  if (o.topEntropyQuantile < 1) l.entropyMask = true;
  if (surrogate === 'sapo') {
    l.sapoTemperaturePos = o.sapoTemperaturePos;
    l.sapoTemperatureNeg = o.sapoTemperatureNeg;
  }
  return l;
}

/**
 * Refuses non-finite advantages and log-prob arrays of the wrong length, and a batch where only some examples
 * carry old log-probs. Returns whether the old policy is the current one (no example carries any).
 */
export function checkGrpoBatch(batch: readonly GrpoExample[], step: number): { detachOld: boolean } {
  batch.forEach((e, i) => {
    if (!Number.isFinite(e.advantage)) throw new TrainingError(`step ${step}: example ${i} has a non-finite advantage (${e.advantage}); training stopped`);
    for (const [what, arr] of [['oldLogprobs', e.oldLogprobs], ['refLogprobs', e.refLogprobs]] as const) {
      if (arr && arr.length !== e.completionIds.length) {
        throw new Error(`example ${i}: ${what} has ${arr.length} values for ${e.completionIds.length} completion tokens`);
      }
    }
  });
  const hasOld = batch.map((e) => e.oldLogprobs !== undefined);
  if (hasOld.some((h) => h !== hasOld[0])) throw new Error('either every example carries oldLogprobs or none does');
  return { detachOld: !hasOld[0] };
}

/** Completion tokens that carry loss weight per row: all of them, or none for a masked truncated completion (TRL's completion_mask). */
export function weightedTokens(batch: readonly GrpoExample[], o: GrpoOptions): number[] {
  return batch.map((e) => (o.maskTruncatedCompletions && e.truncated ? 0 : e.completionIds.length));
}

/**
 * The GRPO loss inputs of every row: advantages [N, 1], token weights [N, Tc] (the normaliser's coefficient on
 * each weighted token), old log-probs [N, Tc] unless the old policy is the current one, reference log-probs
 * [N, Tc] when beta > 0, and the high-entropy mask [N, Tc] when given.
 */
export function grpoRowInputs(
  batch: readonly GrpoExample[],
  layout: StepLayout,
  o: GrpoOptions,
  loss: { tokens: readonly number[]; detachOld: boolean; ref: readonly ArrayLike<number>[] | null; entropyMask: Float32Array | null; generationBatchTokens?: number },
): Record<string, RowInput> {
  const N = batch.length;
  const Tc = layout.completionLen;
  const { tokens, ref } = loss;
  const microBatchOf = batch.map((_, i) => Math.floor(i / layout.microBatch));
  // TRL's num_items_in_batch counts completions before truncated ones are masked.
  const dapoTokens = loss.generationBatchTokens ?? batch.reduce((a, e) => a + e.completionIds.length, 0);
  const coef = aggregationCoefficients(tokens, microBatchOf, lossTypeParts(o.lossType).aggregation, o.maxCompletionLength, dapoTokens);
  const perToken = (fill: (row: number, out: Float32Array) => void): RowInput => {
    const data = new Float32Array(N * Tc);
    for (let r = 0; r < N; r++) fill(r, data.subarray(r * Tc, (r + 1) * Tc));
    return { data, width: Tc };
  };
  const inputs: Record<string, RowInput> = {
    [LOSS_WEIGHTS]: perToken((r, w) => w.fill(coef[r], 0, tokens[r])),
    [ADVANTAGES]: { data: Float32Array.from(batch, (e) => e.advantage), width: 1 },
  };
  if (!loss.detachOld) inputs[OLD_LOGPROBS] = perToken((r, out) => out.set(batch[r].oldLogprobs ?? []));
  if (ref) inputs[REF_LOGPROBS] = perToken((r, out) => out.set(ref[r]));
  if (loss.entropyMask) inputs[ENTROPY_MASK] = { data: loss.entropyMask, width: Tc };
  return inputs;
}

/**
 * TRL's get_high_entropy_mask per micro-batch: 1 on the weighted tokens whose entropy is >= the
 * (1 - topEntropyQuantile) quantile (torch.quantile, linear interpolation) of the micro-batch's weighted-token
 * entropies, 0 elsewhere. [N * Tc], rows laid out as the other per-token inputs.
 */
export function highEntropyMask(entropies: readonly ArrayLike<number>[], tokens: readonly number[], layout: StepLayout, topEntropyQuantile: number): Float32Array {
  const Tc = layout.completionLen;
  const N = entropies.length;
  const mask = new Float32Array(N * Tc);
  for (let start = 0; start < N; start += layout.microBatch) {
    const rows = Array.from({ length: Math.min(layout.microBatch, N - start) }, (_, i) => start + i);
    const values: number[] = [];
    for (const r of rows) for (let t = 0; t < tokens[r]; t++) values.push(entropies[r][t]);
    if (values.length === 0) continue;
    const threshold = quantile(values, 1 - topEntropyQuantile);
    for (const r of rows) for (let t = 0; t < tokens[r]; t++) if (entropies[r][t] >= threshold) mask[r * Tc + t] = 1;
  }
  return mask;
}

/** torch.quantile(values, q) with linear interpolation (torch.lerp's two-sided formula). */
export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const rank = q * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const w = rank - lo;
  const [a, b] = [s[lo], s[hi]];
  return w < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w);
}

/** Graph outputs the metrics read. */
export const GRPO_METRIC_OUTPUTS = ['ratio', 'clipped', 'kl', 'entropy'] as const;

type GrpoMetrics = Pick<
  StepMetrics,
  'meanRatio' | 'clipFraction' | 'kl' | 'entropy' | 'clipRatioLowMean' | 'clipRatioLowMin' | 'clipRatioHighMean' | 'clipRatioHighMax' | 'clipRatioRegionMean' | 'cispoClipRatio'
>;

/** Clip counts: TRL's is_low_clipped, is_high_clipped, either, and cispo's cap. */
interface ClipCounts {
  low: number;
  high: number;
  region: number;
  cispo: number;
}

/**
 * The step's GRPO metrics from the micro-batches' outputs. meanRatio and clipFraction are means over every
 * weighted token of the step; TRL's metrics are means per micro-batch (masked_batch_mean: over weighted tokens,
 * or over sequences for sequence-level ratios; an empty micro-batch counts 0), averaged over micro-batches.
 */
export function grpoMetrics(run: MicroBatchResult, batch: readonly GrpoExample[], tokens: readonly number[], layout: StepLayout, o: GrpoOptions): GrpoMetrics {
  const Tc = layout.completionLen;
  const surrogate = lossTypeParts(o.lossType).surrogate;
  const sequenceLevel = o.importanceSamplingLevel === 'sequence';
  // TRL computes its clip metrics from coef_1 after the delta cap
  const capped = (c: number) => (surrogate === 'clip' && o.delta !== undefined ? Math.min(c, o.delta) : c);
  const count = (into: ClipCounts, c: number, a: number) => {
    const low = capped(c) < 1 - o.epsilonLow && a < 0;
    const high = capped(c) > 1 + o.epsilonHigh && a > 0;
    into.low += +low;
    into.high += +high;
    into.region += +(low || high);
    into.cispo += +(c > o.epsilonHigh && a > 0);
  };

  const step = { ratio: 0, clipped: 0, tokens: 0 };
  const perMb: { kl: number; entropy: number; clips: ClipCounts }[] = [];
  for (const { rows, out } of run.outputs) {
    const ratio = out.ratio.data as Float32Array;
    const clipped = out.clipped.data as Float32Array;
    const kl = out.kl?.data as Float32Array | undefined;
    const entropy = out.entropy.data as Float32Array;
    const sums = { tokens: 0, kl: 0, entropy: 0 };
    const clips: ClipCounts = { low: 0, high: 0, region: 0, cispo: 0 };
    rows.forEach((r, i) => {
      const a = batch[r].advantage;
      if (sequenceLevel) count(clips, ratio[i * Tc], a); // one ratio per sequence
      for (let t = 0; t < tokens[r]; t++) {
        const k = i * Tc + t;
        step.ratio += ratio[k];
        step.clipped += clipped[k];
        step.tokens++;
        sums.tokens++;
        if (kl) sums.kl += kl[k];
        sums.entropy += entropy[k];
        if (!sequenceLevel) count(clips, ratio[k], a);
      }
    });
    const perToken = Math.max(sums.tokens, 1);
    const clipBase = sequenceLevel ? rows.length : perToken;
    perMb.push({
      kl: sums.kl / perToken,
      entropy: sums.entropy / perToken,
      clips: { low: clips.low / clipBase, high: clips.high / clipBase, region: clips.region / clipBase, cispo: clips.cispo / clipBase },
    });
  }
  const mean = (pick: (x: (typeof perMb)[number]) => number) => perMb.reduce((acc, x) => acc + pick(x), 0) / perMb.length;

  const m: GrpoMetrics = {};
  if (step.tokens > 0) {
    m.meanRatio = step.ratio / step.tokens;
    m.clipFraction = step.clipped / step.tokens;
  }
  if (o.beta > 0) m.kl = mean((x) => x.kl);
  m.entropy = mean((x) => x.entropy);
  if (surrogate === 'clip') {
    m.clipRatioLowMean = mean((x) => x.clips.low);
    m.clipRatioLowMin = m.clipRatioLowMean; // TRL's min over processes: there is one
    m.clipRatioHighMean = mean((x) => x.clips.high);
    m.clipRatioHighMax = m.clipRatioHighMean; // max over processes
    m.clipRatioRegionMean = mean((x) => x.clips.region);
  } else if (surrogate === 'cispo') {
    m.cispoClipRatio = mean((x) => x.clips.cispo);
  }
  return m;
}
