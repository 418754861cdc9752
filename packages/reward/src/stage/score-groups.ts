import { Rewards, tableFromColumns } from '@ragrpo/contracts';
import { Float32, makeVector, vectorFromArray, Utf8, type Table, type Vector } from 'apache-arrow';
import { computeAdvantages } from '../advantages/compute-advantages.ts';
import { scoreRewards, type NamedReward } from '../registry/score-rewards.ts';
import type { RewardBatch } from '../types.ts';
import type { RewardSpec } from './reward-setup.ts';

export interface CompletionRow {
  question_id: string;
  split: string;
  group_index: number;
  variant: string;
  template: string;
  answer: string;
  /** The <think> text generate split out (the format reward rebuilds the raw completion from it). */
  reasoning?: string | null;
  completion_ids: ArrayLike<number>;
}

export interface PromptRow {
  question_id: string;
  template: string;
  question: string;
  reference: string | null;
  prompt: string;
  context: string;
}

/** TRL's reward batch for completions: each completion with its prompt and its question's columns. */
export function rewardBatch(completions: CompletionRow[], prompts: PromptRow[]): RewardBatch {
  const byKey = new Map(prompts.map((p) => [`${p.question_id}\u0000${p.template}`, p]));
  const rows = completions.map((c) => {
    const p = byKey.get(`${c.question_id}\u0000${c.template}`);
    if (!p) throw new Error(`completions: question ${c.question_id} template ${c.template} has no prompt in prompts.arrow; re-run prompts and generate`);
    return p;
  });
  return {
    prompts: rows.map((p) => p.prompt),
    completions: completions.map((c) => c.answer),
    completionIds: completions.map((c) => Array.from(c.completion_ids)),
    columns: {
      question_id: completions.map((c) => c.question_id),
      question: rows.map((p) => p.question),
      reference: rows.map((p) => p.reference),
      context: rows.map((p) => p.context),
      split: completions.map((c) => c.split),
      template: completions.map((c) => c.template),
      reasoning: completions.map((c) => c.reasoning ?? null),
    },
  };
}

/** Completions per question, checked equal for every question (advantages are per group). */
export function groupSizeOf(completions: CompletionRow[]): number {
  const counts = new Map<string, number>();
  for (const c of completions) counts.set(c.question_id, (counts.get(c.question_id) ?? 0) + 1);
  const sizes = [...new Set(counts.values())];
  if (sizes.length !== 1) throw new Error(`completions: groups of different sizes (${sizes.join(', ')}); re-run generate`);
  for (let i = 0; i < completions.length; i++) {
    if (completions[i].question_id !== completions[i - (i % sizes[0])].question_id) throw new Error('completions: a question\'s group is not contiguous; re-run generate');
  }
  return sizes[0];
}

export interface ScoredGroups {
  table: Table;
  summary: Record<string, unknown>;
}

/** Scores the groups `groupsPerCall` at a time (progress per call), then the advantages over the whole batch. */
export async function scoreGroups(
  completions: CompletionRow[], prompts: PromptRow[], functions: NamedReward[], spec: RewardSpec,
  o: { groupsPerCall?: number; onGroups?: (n: number) => void } = {},
): Promise<ScoredGroups> {
  const G = groupSizeOf(completions);
  const step = (o.groupsPerCall ?? 16) * G;
  const values: (number | null)[][] = functions.map(() => []);
  for (let i = 0; i < completions.length; i += step) {
    const part = completions.slice(i, i + step);
    const scored = await scoreRewards(functions, rewardBatch(part, prompts));
    scored.forEach((v, k) => values[k].push(...v));
    o.onGroups?.(part.length / G);
  }
  const adv = computeAdvantages(values, {
    groupSize: G, weights: spec.reward_weights, names: spec.reward_funcs,
    scaleRewards: spec.scale_rewards, aggregation: spec.multi_objective_aggregation,
  });
  const f32 = (xs: (number | null)[]) => vectorFromArray(xs.map((x) => (x === null || Number.isNaN(x) ? null : x)), new Float32());
  const columns: Record<string, Vector> = {
    question_id: vectorFromArray(completions.map((c) => c.question_id), new Utf8()),
    group_index: makeVector(Int32Array.from(completions.map((c) => c.group_index))),
    variant: vectorFromArray(completions.map((c) => c.variant), new Utf8()),
  };
  spec.reward_funcs.forEach((name, k) => { columns[`reward_${name}`] = f32(values[k]); });
  columns.total = f32(adv.total);
  columns.advantage = f32(adv.advantages);
  const table = tableFromColumns(Rewards, columns, { 'ragrpo.rewards': JSON.stringify(spec.reward_funcs) });
  const rewards: Record<string, { mean: number; std: number; weight: number; nulls: number }> = {};
  spec.reward_funcs.forEach((name, k) => {
    rewards[name] = { ...adv.perFunction[k], weight: spec.reward_weights[k], nulls: values[k].filter((v) => v === null).length };
  });
  return {
    table,
    summary: {
      completions: completions.length, groups: completions.length / G, group_size: G,
      reward: adv.reward, reward_std: adv.rewardStd, frac_reward_zero_std: adv.fracZeroStd, rewards,
      scale_rewards: spec.scale_rewards, multi_objective_aggregation: spec.multi_objective_aggregation,
    },
  };
}
