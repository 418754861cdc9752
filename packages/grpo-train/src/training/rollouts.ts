import { computeAdvantages, rewardBatch, scoreRewards, type NamedReward, type RewardSpec } from '@ragrpo/reward';
import { sampleCompletions, type SamplingSettings } from '@ragrpo/generate';
import type { Policy, Tokenizer } from '@ragrpo/model';

/** A train prompt as grpo-train uses it: prompts.arrow's main-template row. */
export interface TrainPrompt {
  question_id: string;
  question: string;
  reference: string | null;
  prompt: string;
  context: string;
  template: string;
  split: string;
  prompt_ids: number[];
}

/** One sampled completion with everything the loss, the metrics and the log need. */
export interface Rollout {
  questionId: string;
  groupIndex: number;
  prompt: string;
  promptIds: number[];
  completionIds: number[];
  /** log p of each token under the sampling policy at the sampling temperature: TRL's old_per_token_logps. */
  logprobs: number[];
  text: string;
  answer: string;
  reasoning: string | null;
  finishReason: 'eos' | 'stop' | 'length';
  truncated: boolean;
  rewards: (number | null)[];
  total: number;
  advantage: number;
}

export interface GenerationStats {
  reward: number;
  rewardStd: number;
  fracZeroStd: number;
  perFunction: { mean: number; std: number }[];
  /** Groups dropped for equal rewards and refilled (dynamic sampling). */
  resampledGroups: number;
  samplingSeconds: number;
  scoringSeconds: number;
  completionTokens: number;
  promptTokens: number;
}

export interface GenerateOptions {
  sampling: SamplingSettings;
  groupSize: number;
  seed: number;
  spec: RewardSpec;
  rewards: NamedReward[];
}

/** Samples one group per prompt from the current policy and scores it (no advantages yet). */
export async function sampleGroups(policy: Policy, tokenizer: Tokenizer, prompts: TrainPrompt[], o: GenerateOptions): Promise<{ rollouts: Rollout[]; samplingSeconds: number; scoringSeconds: number }> {
  let t = performance.now();
  const groups = await sampleCompletions(policy, tokenizer, prompts.map((p) => p.prompt_ids), { ...o.sampling, groupSize: o.groupSize, seed: o.seed });
  const samplingSeconds = (performance.now() - t) / 1000;
  const rollouts: Rollout[] = groups.flatMap((group, pi) => group.map((c, gi) => ({
    questionId: prompts[pi].question_id, groupIndex: gi, prompt: prompts[pi].prompt, promptIds: prompts[pi].prompt_ids,
    completionIds: c.ids, logprobs: c.logprobs, text: c.text, answer: c.answer, reasoning: c.reasoning,
    finishReason: c.finishReason, truncated: c.truncated, rewards: [], total: 0, advantage: 0,
  })));
  t = performance.now();
  const rowsOf = rollouts.map((r) => ({
    question_id: r.questionId, split: 'train', group_index: r.groupIndex, variant: 'sample', template: prompts[0]?.template ?? '',
    answer: r.answer, completion_ids: r.completionIds,
  }));
  const batch = rewardBatch(rowsOf, prompts);
  batch.columns.reasoning = rollouts.map((r) => r.reasoning);
  const values = await scoreRewards(o.rewards, batch);
  rollouts.forEach((r, i) => { r.rewards = values.map((v) => v[i]); });
  return { rollouts, samplingSeconds, scoringSeconds: (performance.now() - t) / 1000 };
}

/** TRL's advantages over a generation batch (rollouts in group order), written into the rollouts. */
export function assignAdvantages(rollouts: Rollout[], groupSize: number, spec: RewardSpec) {
  const rewards = spec.reward_funcs.map((_, k) => rollouts.map((r) => r.rewards[k]));
  const adv = computeAdvantages(rewards, {
    groupSize, weights: spec.reward_weights, names: spec.reward_funcs, scaleRewards: spec.scale_rewards, aggregation: spec.multi_objective_aggregation,
  });
  rollouts.forEach((r, i) => { r.total = adv.total[i]; r.advantage = adv.advantages[i]; });
  return adv;
}

/** A group whose weighted totals all agree (std ~ 0) carries no gradient: DAPO's dynamic sampling drops it. */
export function carriesSignal(group: Rollout[], spec: RewardSpec): boolean {
  const totals = group.map((r) => r.rewards.reduce<number>((s, v, k) => s + (v === null ? 0 : v * spec.reward_weights[k]), 0));
  return Math.max(...totals) - Math.min(...totals) > 1e-9;
}
