import type { StepMetrics } from '@ragrpo/model';
import type { RewardSpec } from '@ragrpo/reward';
import type { GenerationStats, Rollout } from './rollouts.ts';

export interface StepTimes {
  sampling: number;
  scoring: number;
  logprobs: number;
  forwardBackward: number;
  optimizer: number;
  step: number;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** One metrics.arrow row with TRL's names, for the optimizer step `m` trained on `batch` (from generation `gen`). */
export function metricsRow(
  m: StepMetrics, batch: Rollout[], gen: GenerationStats, spec: RewardSpec,
  o: { epoch: number; numTokens: number; times: StepTimes; beta: number },
): Record<string, number | null> {
  const lengths = batch.map((r) => r.completionIds.length);
  const terminated = batch.filter((r) => !r.truncated).map((r) => r.completionIds.length);
  const extra = m;
  const row: Record<string, number | null> = {
    step: m.step,
    epoch: o.epoch,
    loss: m.loss,
    grad_norm: m.gradNorm,
    learning_rate: m.lr,
    reward: gen.reward,
    reward_std: gen.rewardStd,
    frac_reward_zero_std: gen.fracZeroStd,
    kl: o.beta > 0 ? (m.kl ?? null) : null,
    entropy: extra.entropy ?? null,
    'clip_ratio/low_mean': extra.clipRatioLowMean ?? 0,
    'clip_ratio/low_min': extra.clipRatioLowMin ?? 0,
    'clip_ratio/high_mean': extra.clipRatioHighMean ?? 0,
    'clip_ratio/high_max': extra.clipRatioHighMax ?? 0,
    'clip_ratio/region_mean': extra.clipRatioRegionMean ?? (m.clipFraction ?? 0),
    'completions/mean_length': mean(lengths),
    'completions/min_length': Math.min(...lengths),
    'completions/max_length': Math.max(...lengths),
    'completions/mean_terminated_length': mean(terminated),
    'completions/clipped_ratio': batch.filter((r) => r.truncated).length / batch.length,
    num_tokens: o.numTokens,
    step_time: o.times.step,
    tokens_per_second: lengths.reduce((a, b) => a + b, 0) / Math.max(o.times.step, 1e-9),
    'time/sampling': o.times.sampling,
    'time/scoring': o.times.scoring,
    'time/logprobs': o.times.logprobs,
    'time/forward_backward': o.times.forwardBackward,
    'time/optimizer': o.times.optimizer,
    resampled_groups: gen.resampledGroups,
  };
  spec.reward_funcs.forEach((name, k) => {
    row[`rewards/${name}/mean`] = gen.perFunction[k].mean;
    row[`rewards/${name}/std`] = gen.perFunction[k].std;
  });
  return row;
}
