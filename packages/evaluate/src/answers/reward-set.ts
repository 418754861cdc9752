import { suggest, type EvaluateConfig } from '@ragrpo/config';
import { customRewardEntry, isKnownReward, KNOWN_REWARDS, type RewardSpec } from '@ragrpo/reward';

/** The rewards evaluate scores with: which the training knew, which are for evaluation only, and the primary one. */
export interface RewardSet {
  spec: RewardSpec;
  /** In reward_spec.json: what grpo-train optimised. */
  trained: string[];
  /** Not in reward_spec.json (or no reward stage at all): evaluation may use more rewards than training. */
  evaluationOnly: string[];
  primary: string;
}

/**
 * A reward's options: evaluate.options over the reward stage's. The judge runs on a model folder or an
 * endpoint, one of them: evaluate's `model` or `endpoint` replaces both of the reward stage's, so a judge
 * moved from an endpoint to a local folder (or back) for evaluation never ends up with both.
 */
export function mergedOptions(name: string, train: Record<string, unknown> = {}, own: Record<string, unknown> = {}): Record<string, unknown> {
  const base = { ...train };
  if (name === 'judge' && (own.model !== undefined || own.endpoint !== undefined)) {
    delete base.model;
    delete base.endpoint;
  }
  return { ...base, ...own };
}

/**
 * evaluate's rewards as a reward spec the reward library scores with: `evaluate.rewards` (default:
 * reward_spec.json's), each with the reward stage's options and custom module when it had the
 * reward, `evaluate.options` merged over them, and evaluate's own custom modules for the rest.
 */
export function evaluationRewards(s: EvaluateConfig, train: RewardSpec | null, resolve: (p: string) => string): RewardSet {
  const names = s.rewards ?? train?.reward_funcs;
  if (!names) throw new Error('evaluate.rewards: the pipeline has no reward: section (no reward_spec.json), so name the rewards to evaluate with, e.g. rewards: [token_f1]');
  const trainCustom = train?.custom ?? {};
  const known = [...KNOWN_REWARDS, ...Object.keys(trainCustom), ...Object.keys(s.custom)];
  for (const n of names) {
    if (!isKnownReward(n) && !(n in trainCustom) && !(n in s.custom)) {
      const near = suggest(n, known);
      throw new Error(`evaluate.rewards: unknown reward '${n}'${near ? ` (did you mean '${near}'?)` : ''}; known rewards: ${KNOWN_REWARDS.join(', ')}, or a key of evaluate.custom (${Object.keys(s.custom).join(', ') || 'none configured'})`);
    }
  }
  if (new Set(names).size !== names.length) throw new Error(`evaluate.rewards: '${names.find((n, i) => names.indexOf(n) !== i)}' is listed twice`);
  const primary = s.primary_reward ?? names[0];
  if (!names.includes(primary)) {
    throw new Error(`evaluate.primary_reward: '${primary}' is not one of the evaluated rewards (${names.join(', ')})`);
  }
  const options: RewardSpec['options'] = {};
  const custom: RewardSpec['custom'] = {};
  for (const n of names) {
    const merged = mergedOptions(n, train?.options[n], s.options[n]);
    if (Object.keys(merged).length) options[n] = merged;
    if (s.custom[n]) custom[n] = customRewardEntry(`evaluate.custom.${n}`, s.custom[n], resolve);
    else if (trainCustom[n]) custom[n] = trainCustom[n];
  }
  const weightOf = (n: string) => (train ? train.reward_weights[train.reward_funcs.indexOf(n)] ?? 1 : 1);
  const trained = names.filter((n) => train?.reward_funcs.includes(n));
  return {
    spec: {
      reward_funcs: names, reward_weights: names.map(weightOf), options, custom,
      scale_rewards: train?.scale_rewards ?? 'group', multi_objective_aggregation: train?.multi_objective_aggregation ?? 'sum_then_normalize',
    },
    trained,
    evaluationOnly: names.filter((n) => !trained.includes(n)),
    primary,
  };
}

/** The one-reward spec a preference scorer named by a reward uses (a reward of evaluate's, or any built-in). */
export function scorerSpec(name: string, set: RewardSet, s: EvaluateConfig, train: RewardSpec | null, resolve: (p: string) => string): RewardSpec {
  const inSet = set.spec.reward_funcs.includes(name);
  const custom = inSet ? set.spec.custom[name] : s.custom[name] ? customRewardEntry(`evaluate.custom.${name}`, s.custom[name], resolve) : train?.custom[name];
  if (!isKnownReward(name) && !custom) {
    const near = suggest(name, [...KNOWN_REWARDS, ...set.spec.reward_funcs]);
    throw new Error(`evaluate.preference.scorer: unknown reward '${name}'${near ? ` (did you mean '${near}'?)` : ''}; give a reward name, judge, or { model: <sequence-classification folder> }`);
  }
  const opts = inSet ? set.spec.options[name] : mergedOptions(name, train?.options[name], s.options[name]);
  return {
    reward_funcs: [name], reward_weights: [1], options: opts && Object.keys(opts).length ? { [name]: opts } : {},
    custom: custom ? { [name]: custom } : {}, scale_rewards: 'none', multi_objective_aggregation: 'sum_then_normalize',
  };
}
