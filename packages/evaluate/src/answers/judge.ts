import type { EvaluateConfig } from '@ragrpo/config';
import { judgeGenerator, type RewardSpec } from '@ragrpo/reward';

/** How evaluate runs its judge (plain data: it crosses into a preference scorer's worker thread). */
export interface JudgeSetup {
  /** The judge's options (evaluate.options.judge over reward_spec.json's): endpoint, max_new_tokens, template, normalize. */
  options: Record<string, unknown>;
  /** The local model folder, used when there is no endpoint: judge.model resolved, else the before policy's folder. */
  folder: string;
  /** The setting errors name: evaluate.options.judge, or reward.options.judge when the endpoint is reward_spec.json's. */
  label: string;
}

/**
 * The judge of a spec's options: an OpenAI-compatible endpoint (judge.endpoint) or a local model folder
 * (judge.model, else `policyFolder`: seed 000 asks the base model). evaluate.options.judge is merged over
 * the reward stage's judge options already (see evaluationRewards); `s` only tells where an endpoint came from.
 */
export function evaluationJudge(spec: RewardSpec, s: EvaluateConfig, resolve: (p: string) => string, policyFolder: string): JudgeSetup {
  const o = spec.options.judge ?? {};
  const folder = typeof o.model === 'string' ? resolve(o.model) : policyFolder;
  const fromRewardStage = o.endpoint !== undefined && s.options.judge?.endpoint === undefined;
  return { options: o, folder, label: fromRewardStage ? 'reward.options.judge' : 'evaluate.options.judge' };
}

/** Where the judge runs, for the report: the endpoint's URL and model (never its key), or the model folder. */
export function judgeSource(j: JudgeSetup): string {
  const e = j.options.endpoint as { base_url: string; model: string } | undefined;
  return e ? `the endpoint ${e.base_url} (model ${e.model}, ${j.label}.endpoint)` : `the model folder ${j.folder}`;
}

/** The judge's text generator (the reward library's judgeGenerator); errors name the setting. */
export async function openJudge(j: JudgeSetup) {
  try {
    return await judgeGenerator(j.options, async () => j.folder, j.label);
  } catch (err) {
    const m = (err as Error).message;
    throw new Error(m.startsWith(j.label) ? m : `${j.label}.model: ${m}`);
  }
}
