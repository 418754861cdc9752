import { parseOptions } from '../registry/options.ts';
import type { RewardFunction } from '../types.ts';
import { NoOptions } from './no-options.ts';
import { containsReference } from './squad-metrics.ts';

/** contains_reference: 1.0 when the normalised reference occurs (as whole tokens) in the normalised completion; null without a reference. */
export function createContainsReferenceReward(options: unknown): RewardFunction {
  parseOptions('contains_reference', NoOptions, options);
  return (batch) => batch.completions.map((c, i) => {
    const reference = batch.columns.reference[i];
    return reference == null ? null : containsReference(c, reference);
  });
}
