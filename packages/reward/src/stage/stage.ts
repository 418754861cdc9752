import type { RewardConfig, StageContext } from '@ragrpo/config';
import { policyFolder, readPolicyRecord, tableRows } from '@ragrpo/contracts';
import { createProgress } from '@ragrpo/progress';
import type { JudgeStats, RewardDeps } from '../types.ts';
import { judgeGenerator } from './judge-model.ts';
import { rewardFunctions, rewardSpec } from './reward-setup.ts';
import { scoreGroups, type CompletionRow, type PromptRow } from './score-groups.ts';

/** The judge's model: judge.model when set, else the pipeline's start policy (seed 000 asks the base model). */
async function judgeFolder(ctx: StageContext<RewardConfig>): Promise<string> {
  const model = ctx.settings.options.judge?.model;
  if (typeof model === 'string') return ctx.resolve(model);
  const recordFile = ctx.inputPath('policy');
  if (!recordFile) throw new Error(`reward.options.judge.model: the pipeline has no policy: section, so name the judge's model folder here`);
  const record = await readPolicyRecord(recordFile);
  return policyFolder(record, recordFile, ctx.root);
}

/** The reward stage: generate's completions + prompts' columns -> rewards.arrow, summary.json and reward_spec.json. */
export async function rewardStage(ctx: StageContext<RewardConfig>): Promise<string> {
  const s = ctx.settings;
  const spec = rewardSpec(s, ctx.resolve);
  let judgeStats: JudgeStats | null = null;
  const deps: RewardDeps = { root: ctx.root, onJudgeStats: (st) => { judgeStats = st; } };
  let judge: Awaited<ReturnType<typeof judgeGenerator>> | null = null;
  if (spec.reward_funcs.includes('judge')) {
    try {
      judge = await judgeGenerator(s.options.judge, () => judgeFolder(ctx));
    } catch (err) {
      const m = (err as Error).message;
      throw new Error(m.startsWith('reward.options.judge') ? m : `reward.options.judge.model: ${m}`);
    }
    deps.generateText = judge.generateText;
  }
  try {
    // judge.endpoint, like judge.model, is the stage's setting, not the reward function's option.
    const { endpoint: _endpoint, ...judgeOptions } = spec.options.judge ?? {};
    const functions = await rewardFunctions(spec.options.judge ? { ...spec, options: { ...spec.options, judge: judgeOptions } } : spec, deps);
    const completions = tableRows<CompletionRow>(await ctx.readInput('completions'));
    const prompts = tableRows<PromptRow>(await ctx.readInput('prompts'));
    const questions = new Set(completions.map((c) => c.question_id)).size;
    const progress = createProgress({ stage: 'reward', task: `score (${spec.reward_funcs.join(', ')})`, total: questions, unit: 'groups' });
    const { table, summary } = await scoreGroups(completions, prompts, functions, spec, { onGroups: (n) => progress.tick(n) });
    progress.done();
    const full = { ...summary, judge: judgeStats };
    if (judgeStats && (judgeStats as JudgeStats).totalUnparseable > 0) {
      const st = judgeStats as JudgeStats;
      ctx.log.warn(`judge: ${st.totalUnparseable} of ${st.totalReplies} replies held no 1-10 score (scored null)`);
    }
    await ctx.writeOutput('rewards', table);
    await ctx.writeOutput('summary', JSON.stringify(full, null, 2) + '\n');
    await ctx.writeOutput('spec', JSON.stringify(spec, null, 2) + '\n');
    const per = spec.reward_funcs.map((n) => `${n} ${(summary.rewards as Record<string, { mean: number }>)[n].mean.toFixed(3)}`).join(', ');
    return `${summary.completions} completions in ${summary.groups} groups: reward ${(summary.reward as number).toFixed(3)} (${per}), ${((summary.frac_reward_zero_std as number) * 100).toFixed(0)}% zero-std groups`;
  } finally {
    await judge?.release();
  }
}
