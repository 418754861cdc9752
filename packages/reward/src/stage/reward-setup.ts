import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { suggest, type RewardConfig } from '@ragrpo/config';
import { createRewardFunction, isKnownReward, KNOWN_REWARDS } from '../registry/registry.ts';
import type { NamedReward } from '../registry/score-rewards.ts';
import { loadUserReward } from '../registry/user-reward.ts';
import type { RewardDeps } from '../types.ts';

/** Options the stage itself uses (which model runs the judge), not the reward function. */
const STAGE_OPTIONS: Record<string, string[]> = { judge: ['model', 'max_new_tokens', 'endpoint'] };

/** A reward's options as the library takes them: the stage's own keys removed. */
export function libraryOptions(name: string, options: Record<string, unknown> = {}): Record<string, unknown> {
  const drop = STAGE_OPTIONS[name] ?? [];
  return Object.fromEntries(Object.entries(options).filter(([k]) => !drop.includes(k)));
}

/**
 * Everything grpo-train needs to score exactly as this stage does: the names, weights, options,
 * custom modules (with a digest of their source) and the advantage settings. Written as
 * reward_spec.json, so grpo-train reads the reward settings through an artifact, not another
 * stage's section.
 */
export interface RewardSpec {
  reward_funcs: string[];
  reward_weights: number[];
  options: Record<string, Record<string, unknown>>;
  custom: Record<string, { module: string; export: string; options: Record<string, unknown>; sha256: string }>;
  scale_rewards: RewardConfig['scale_rewards'];
  multi_objective_aggregation: RewardConfig['multi_objective_aggregation'];
}

/** A custom reward module as a spec entry: its resolved path and the sha256 of its source (a missing file is named by `key`). */
export function customRewardEntry(key: string, c: { module: string; export: string; options: Record<string, unknown> }, resolve: (p: string) => string): RewardSpec['custom'][string] {
  const file = resolve(c.module);
  let source: Buffer;
  try { source = readFileSync(file); } catch { throw new Error(`${key}.module: ${file}: no such reward module`); }
  return { module: file, export: c.export, options: c.options, sha256: createHash('sha256').update(source).digest('hex') };
}

export function rewardSpec(s: RewardConfig, resolve: (p: string) => string): RewardSpec {
  const unknown = s.reward_funcs.filter((n) => !isKnownReward(n) && !(n in s.custom));
  if (unknown.length) {
    const near = suggest(unknown[0], [...KNOWN_REWARDS, ...Object.keys(s.custom)]);
    throw new Error(`reward.reward_funcs: unknown reward '${unknown[0]}'${near ? ` (did you mean '${near}'?)` : ''}; known rewards: ${KNOWN_REWARDS.join(', ')}, or a key of reward.custom (${Object.keys(s.custom).join(', ') || 'none configured'})`);
  }
  const weights = s.reward_weights ?? s.reward_funcs.map(() => 1);
  if (weights.length !== s.reward_funcs.length) {
    throw new Error(`reward.reward_weights has ${weights.length} entries but ${s.reward_funcs.length} rewards are configured (${s.reward_funcs.join(', ')})`);
  }
  const custom: RewardSpec['custom'] = {};
  for (const [name, c] of Object.entries(s.custom)) custom[name] = customRewardEntry(`reward.custom.${name}`, c, resolve);
  return {
    reward_funcs: s.reward_funcs, reward_weights: weights, options: s.options, custom,
    scale_rewards: s.scale_rewards, multi_objective_aggregation: s.multi_objective_aggregation,
  };
}

/** The reward functions of a spec, ready to score (options validated now, before any model runs). */
export async function rewardFunctions(spec: RewardSpec, deps: RewardDeps): Promise<NamedReward[]> {
  const out: NamedReward[] = [];
  for (const name of spec.reward_funcs) {
    const c = spec.custom[name];
    if (c) {
      const fn = await loadUserReward(c.module, c.export);
      // A user function gets the batch, and its `options` from the pipeline file as a second argument.
      const call = fn as (batch: Parameters<typeof fn>[0], options: Record<string, unknown>) => ReturnType<typeof fn>;
      out.push({ name, fn: (batch) => call(batch, c.options) });
    } else {
      try {
        out.push({ name, fn: createRewardFunction(name, libraryOptions(name, spec.options[name]), deps) });
      } catch (err) {
        throw new Error(`reward.options.${name}: ${(err as Error).message}`);
      }
    }
  }
  return out;
}
