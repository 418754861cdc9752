import { z } from 'zod';
import { parseOptions } from '../registry/options.ts';
import type { RewardBatch, RewardFunction } from '../types.ts';

export const FormatOptions = z.strictObject({
  /** A JavaScript regex the raw text must match (searched, not anchored: use ^...$ to anchor). */
  pattern: z.string().min(1).optional(),
  /** RegExp flags for `pattern`, e.g. 's' so '.' crosses lines, 'i' to ignore case. */
  flags: z.string().regex(/^[dgimsuvy]*$/, 'flags must be RegExp flags (d g i m s u v y)').default(''),
});

// The default: a think block, then a non-empty answer (DeepSeek-R1's format, seed 003).
const THINK_THEN_ANSWER = /^\s*<think>[\s\S]*?<\/think>\s*\S/;

/**
 * The raw text the model wrote. generate splits the reasoning into a `reasoning` column; where
 * that column is present the think block is put back in front of the answer (a null reasoning
 * means the model wrote no think block). Without the column the completion is taken as it is.
 */
export function rawCompletion(batch: RewardBatch, i: number): string {
  const reasoning = batch.columns.reasoning?.[i];
  return typeof reasoning === 'string' ? `<think>${reasoning}</think>${batch.completions[i]}` : batch.completions[i];
}

/** format: 1.0 when the completion has the expected shape (default: <think>...</think> then an answer), else 0.0. */
export function createFormatReward(options: unknown): RewardFunction {
  const o = parseOptions('format', FormatOptions, options);
  let re = THINK_THEN_ANSWER;
  if (o.pattern !== undefined) {
    try {
      // 'g'/'y' would make test() stateful across completions.
      re = new RegExp(o.pattern, o.flags.replace(/[gy]/g, ''));
    } catch (err) {
      throw new Error(`reward 'format': option 'pattern' is not a valid regex: ${(err as Error).message}`);
    }
  }
  return (batch) => batch.completions.map((_, i) => (re.test(rawCompletion(batch, i)) ? 1 : 0));
}
