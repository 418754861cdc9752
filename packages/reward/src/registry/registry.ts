import { suggest } from '@ragrpo/config';
import { createContainsReferenceReward } from '../rewards/contains-reference.ts';
import { createContextFaithfulnessReward } from '../rewards/context-faithfulness.ts';
import { createExactMatchReward } from '../rewards/exact-match.ts';
import { createFormatReward } from '../rewards/format.ts';
import { createJudgeReward } from '../rewards/judge.ts';
import { createLengthReward } from '../rewards/length.ts';
import { createRewardModelReward } from '../rewards/reward-model.ts';
import { createSentimentReward } from '../rewards/sentiment.ts';
import { createTfidfReward } from '../rewards/tfidf-reward.ts';
import { createTokenF1Reward } from '../rewards/token-f1.ts';
import type { RewardDeps, RewardFunction } from '../types.ts';

type Factory = (options: unknown, deps: RewardDeps) => RewardFunction;

const FACTORIES = {
  tfidf: createTfidfReward,
  sentiment: createSentimentReward,
  judge: createJudgeReward,
  reward_model: createRewardModelReward,
  exact_match: createExactMatchReward,
  token_f1: createTokenF1Reward,
  contains_reference: createContainsReferenceReward,
  format: createFormatReward,
  length: createLengthReward,
  context_faithfulness: createContextFaithfulnessReward,
} satisfies Record<string, Factory>;

export type KnownReward = keyof typeof FACTORIES;

/** The built-in reward names, as the pipeline's `reward.reward_funcs` lists them. */
export const KNOWN_REWARDS = Object.keys(FACTORIES) as readonly KnownReward[];

export function isKnownReward(name: string): name is KnownReward {
  return Object.hasOwn(FACTORIES, name);
}

/**
 * A built-in reward by name, its options validated now (so a bad pipeline fails before any model
 * runs). An unknown name throws, listing the known ones and the nearest.
 */
export function createRewardFunction(name: string, options: object = {}, deps: RewardDeps = {}): RewardFunction {
  if (!isKnownReward(name)) {
    const near = suggest(name, [...KNOWN_REWARDS]);
    throw new Error(`unknown reward '${name}'${near ? ` (did you mean '${near}'?)` : ''}; known rewards: ${KNOWN_REWARDS.join(', ')} (or a custom module)`);
  }
  return (FACTORIES[name] as Factory)(options, deps);
}
