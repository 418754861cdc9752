import { parseOptions } from '../registry/options.ts';
import type { RewardFunction } from '../types.ts';
import { NoOptions } from './no-options.ts';
import { f1Score } from './squad-metrics.ts';

/** token_f1: SQuAD v1.1 token F1 between the completion and the reference; null without a reference. */
export function createTokenF1Reward(options: unknown): RewardFunction {
  parseOptions('token_f1', NoOptions, options);
  return (batch) => batch.completions.map((c, i) => {
    const reference = batch.columns.reference[i];
    return reference == null ? null : f1Score(c, reference);
  });
}
