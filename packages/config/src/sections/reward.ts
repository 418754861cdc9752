import { z } from 'zod';
import { checkJudgeOptions } from './generate.ts';

// reward: reward functions over each group, weighted, then group-relative advantages (TRL's names).

/** A user's reward: a TypeScript/JavaScript module exporting TRL's reward-function shape. */
const CustomReward = z.strictObject({
  module: z.string(),
  export: z.string().default('default'),
  options: z.record(z.string(), z.unknown()).default({}),
});

export const RewardSection = z.strictObject({
  /** Reward names: built-ins (tfidf, sentiment, judge, reward_model, exact_match, token_f1, ...) or keys of `custom`. */
  reward_funcs: z.array(z.string().min(1)).min(1),
  /** One weight per reward function (TRL's reward_weights); unset = all 1. */
  reward_weights: z.array(z.number()).optional(),
  /** Options per built-in reward, by name, e.g. tfidf: { language: german }. */
  options: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  custom: z.record(z.string(), CustomReward).default({}),
  /** Advantage scaling: std of the group, of the whole batch, or none (Dr. GRPO). */
  scale_rewards: z.enum(['group', 'batch', 'none']).default('group'),
  multi_objective_aggregation: z.enum(['sum_then_normalize', 'normalize_then_sum']).default('sum_then_normalize'),
}).refine((r) => !r.reward_weights || r.reward_weights.length === r.reward_funcs.length, {
  path: ['reward_weights'], message: 'needs one weight per entry of reward_funcs',
}).superRefine((r, ctx) => checkJudgeOptions(r.options.judge, ctx));
