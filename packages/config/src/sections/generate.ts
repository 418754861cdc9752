import { z } from 'zod';

// generate: candidate groups per question (seed 000), with TRL's sampling option names.

export const SamplingSettings = {
  temperature: z.number().min(0).default(1),
  top_p: z.number().gt(0).max(1).default(1),
  /** 0 = off */
  top_k: z.number().int().min(0).default(0),
  /** Keep tokens with probability >= min_p * the top token's (0 = off). */
  min_p: z.number().min(0).max(1).default(0),
  repetition_penalty: z.number().positive().default(1),
  max_completion_length: z.number().int().positive().default(64),
  /** Strings that end a completion (kept in the text, as transformers' stop_strings). */
  stop: z.array(z.string().min(1)).default([]),
};

export const GenerateSection = z.strictObject({
  /** Plain samples per question at `temperature` (TRL's group size). */
  num_generations: z.number().int().min(2, { message: 'must be at least 2: a group of one has no relative advantage' }).default(8),
  ...SamplingSettings,
  /** A greedy completion in every group: the reference answer of seed 000. */
  greedy_reference: z.boolean().default(true),
  /** More temperatures, each with samples_per_temperature samples (seed 000's temperature variants). */
  temperatures: z.array(z.number().min(0)).default([]),
  samples_per_temperature: z.number().int().positive().default(1),
  /** Alternative prompt templates (names from prompts.alternatives), each with samples_per_template samples. */
  template_variants: z.array(z.string()).default([]),
  samples_per_template: z.number().int().positive().default(1),
  /** Which questions get groups. */
  splits: z.array(z.enum(['train', 'test'])).min(1).default(['train', 'test']),
  /** At most this many questions (0 = all), first by question id order. */
  limit: z.number().int().min(0).default(0),
  /** Prompts sampled together in one batch (each with its whole group). */
  prompts_per_batch: z.number().int().positive().default(4),
});
