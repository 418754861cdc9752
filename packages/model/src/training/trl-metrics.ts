// StepMetrics under the names TRL's GRPOTrainer logs, for metrics files and dashboards a TRL user reads.
import type { StepMetrics } from './options.ts';

const TRL_NAMES: readonly [keyof StepMetrics, string][] = [
  ['loss', 'loss'],
  ['gradNorm', 'grad_norm'],
  ['lr', 'learning_rate'],
  ['numTokens', 'num_tokens'],
  ['kl', 'kl'],
  ['entropy', 'entropy'],
  ['clipRatioLowMean', 'clip_ratio/low_mean'],
  ['clipRatioLowMin', 'clip_ratio/low_min'],
  ['clipRatioHighMean', 'clip_ratio/high_mean'],
  ['clipRatioHighMax', 'clip_ratio/high_max'],
  ['clipRatioRegionMean', 'clip_ratio/region_mean'],
  ['cispoClipRatio', 'cispo_clip_ratio'],
];

/** The step's metrics keyed by TRL's names (loss, grad_norm, learning_rate, num_tokens, kl, entropy, clip_ratio/...); unset ones are left out. */
export function trlMetrics(m: StepMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [field, name] of TRL_NAMES) {
    const v = m[field];
    if (typeof v === 'number') out[name] = v;
  }
  return out;
}
