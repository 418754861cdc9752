// @ragrpo/reward: reward functions with TRL's contract, and GRPO's group-relative advantages.
export * from './types.ts';
export { createRewardFunction, KNOWN_REWARDS, isKnownReward, type KnownReward } from './registry/registry.ts';
export { loadUserReward } from './registry/user-reward.ts';
export { scoreRewards, checkBatch, type NamedReward } from './registry/score-rewards.ts';
export { tfidfSimilarity, type TfidfOptions } from './rewards/tfidf.ts';
export { extractJudgeScore } from './rewards/judge-score.ts';
export { DEFAULT_JUDGE_TEMPLATE, judgePrompt } from './rewards/judge.ts';
export { exactMatchScore, f1Score, containsReference } from './rewards/squad-metrics.ts';
export { contextFaithfulness } from './rewards/context-faithfulness.ts';
export { lengthScore } from './rewards/length.ts';
export { rawCompletion } from './rewards/format.ts';
export { mapSentimentLabel } from './rewards/sentiment.ts';
export { vaderLabel, type SentimentLanguage } from './rewards/sentiment-lexicon.ts';
export { normalizeAnswer, answerTokens } from './text/squad-normalize.ts';
export { sklearnTokens } from './text/sklearn-tokenize.ts';
export { nltkStopwords, readStopwordFile, type StopwordLanguage } from './text/stopwords.ts';
export {
  computeAdvantages, type AdvantageOptions, type AdvantageResult, type ScaleRewards, type MultiObjectiveAggregation,
} from './advantages/compute-advantages.ts';
export { nanmean, nanstd, nansum } from './advantages/nan-stats.ts';
// the stage's reward setup, for grpo-train and evaluate: score exactly as the reward stage does
export { rewardSpec, rewardFunctions, libraryOptions, customRewardEntry, type RewardSpec } from './stage/reward-setup.ts';
export { rewardBatch, groupSizeOf, scoreGroups, type CompletionRow as RewardCompletionRow, type PromptRow as RewardPromptRow } from './stage/score-groups.ts';
export { localJudge, endpointJudge, judgeGenerator } from './stage/judge-model.ts';
