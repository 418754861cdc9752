import { z } from 'zod';
import { checkJudgeOptions, SamplingSettings } from './generate.ts';

// evaluate: the test split answered before and after training, every reward per answer, bootstrap
// intervals, retrieval metrics, seed 004's pairwise preference scoring and report.html.

/** A reward module of the user's, for a reward the reward stage does not configure (evaluation only). */
const CustomReward = z.strictObject({
  module: z.string(),
  export: z.string().default('default'),
  options: z.record(z.string(), z.unknown()).default({}),
});

/** Who scores a preference pair's two sides: a reward by name, a sequence-classification model folder, or the LLM judge. */
const PreferenceScorer = z.union([
  z.string().min(1),
  z.strictObject({
    /** A transformers.js sequence-classification folder (config.json, tokenizer.json, onnx/model.onnx). */
    model: z.string().min(1),
    batch_size: z.number().int().positive().default(8),
    max_length: z.number().int().positive().optional(),
  }),
]);

const Preference = z.strictObject({
  /** A reward name (evaluate's rewards, a built-in, `judge`) or { model: folder }. */
  scorer: PreferenceScorer,
  /** |score_a - score_b| below this predicts a tie (seed 004: 0.08). */
  tie_threshold: z.number().min(0).default(0.08),
  /** Characters of prompt + both responses kept, whole turns from the front (seed 004: 7200). */
  max_chars: z.number().int().positive().default(7200),
  /** Worker-thread replicas of the scorer, each scoring every other pair (seed 004: two). */
  replicas: z.number().int().positive().max(16).default(2),
  /** Pairs scored per call of the scorer. */
  batch_size: z.number().int().positive().default(8),
});

const Report = z.strictObject({
  /** POV heatmaps embedded in report.html (the rest are linked). */
  max_heatmaps: z.number().int().min(0).default(12),
  /** Best and worst changes shown first, each. */
  examples: z.number().int().min(0).default(5),
});

export const EvaluateSection = z.strictObject({
  /** Reward names: the reward stage's (reward_spec.json) by default; more are allowed and reported as evaluation-only. */
  rewards: z.array(z.string().min(1)).min(1).optional(),
  /**
   * Options for rewards, by name (over reward_spec.json's), e.g. judge: { model: models/judge }, or
   * judge: { endpoint: { base_url, model, api_key_env } } for an OpenAI-compatible endpoint instead of a folder.
   */
  options: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  /** User reward modules for evaluation-only rewards. */
  custom: z.record(z.string(), CustomReward).default({}),
  /** The reward the gain is judged by (summary.json primary_reward); the first of `rewards` when unset. */
  primary_reward: z.string().min(1).optional(),
  /** Answers per question and policy: 1 = greedy (unless temperature is set), k = k samples at `temperature`. */
  samples: z.number().int().positive().default(1),
  /** TRL's sampling names, as generate has them. */
  ...SamplingSettings,
  /** temperature: 0 (greedy) with samples 1, else 1.0, when unset. */
  temperature: z.number().min(0).optional(),
  /** At most this many test questions (0 = all), in prompts.arrow order. */
  limit: z.number().int().min(0).default(0),
  /** Prompts sampled together in one batch. */
  prompts_per_batch: z.number().int().positive().default(4),
  /** Bootstrap resamples of the questions (percentile intervals). */
  bootstrap_resamples: z.number().int().min(100).default(10_000),
  confidence: z.number().gt(0).lt(1).default(0.95),
  /** Cut-offs of recall@k (each capped at what was retrieved). */
  retrieval_k: z.array(z.number().int().positive()).min(1).default([1, 3, 5, 10]),
  preference: Preference.optional(),
  report: Report.default({ max_heatmaps: 12, examples: 5 }),
}).superRefine((e, ctx) => checkJudgeOptions(e.options.judge, ctx));
