import { parseOptions } from '../registry/options.ts';
import type { RewardFunction } from '../types.ts';
import { NoOptions } from './no-options.ts';
import { exactMatchScore } from './squad-metrics.ts';

/** exact_match: 1.0 when the normalised completion equals the normalised reference (SQuAD v1.1), else 0.0; null without a reference. */
export function createExactMatchReward(options: unknown): RewardFunction {
  parseOptions('exact_match', NoOptions, options);
  return (batch) => batch.completions.map((c, i) => {
    const reference = batch.columns.reference[i];
    return reference == null ? null : exactMatchScore(c, reference);
  });
}
