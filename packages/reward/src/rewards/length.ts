import { z } from 'zod';
import { parseOptions } from '../registry/options.ts';
import type { RewardFunction } from '../types.ts';

export const LengthOptions = z.strictObject({
  /** Count characters (Unicode code points of the answer) or tokens (completion ids). */
  unit: z.enum(['chars', 'tokens']).default('tokens'),
  min: z.number().nonnegative().default(0),
  max: z.number().positive(),
  /** How far outside [min, max] the reward falls linearly to 0; 0 = a hard edge. Default: max - min. */
  margin: z.number().nonnegative().optional(),
}).refine((o) => o.min <= o.max, { path: ['min'], message: 'min must not exceed max' });

/**
 * The length shaping: 1 inside [min, max]; outside, 1 - distance / margin, floored at 0, where
 * distance is how far the length lies below min or above max.
 */
export function lengthScore(length: number, min: number, max: number, margin: number): number {
  const distance = length < min ? min - length : length > max ? length - max : 0;
  if (distance === 0) return 1;
  if (margin === 0) return 0;
  return Math.max(0, 1 - distance / margin);
}

/** length: 1.0 inside the target range, decaying linearly to 0.0 over `margin` outside it. */
export function createLengthReward(options: unknown): RewardFunction {
  const o = parseOptions('length', LengthOptions, options);
  const margin = o.margin ?? o.max - o.min;
  return (batch) => batch.completions.map((c, i) => {
    const length = o.unit === 'tokens' ? batch.completionIds[i].length : [...c].length;
    return lengthScore(length, o.min, o.max, margin);
  });
}
