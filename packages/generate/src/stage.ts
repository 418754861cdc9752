import type { GenerateConfig, StageContext } from '@ragrpo/config';
import { tableRows } from '@ragrpo/contracts';
import { createProgress } from '@ragrpo/progress';
import { generateGroups, type PromptRow } from './groups/generate-groups.ts';
import { loadPolicy } from './sampling/load-policy.ts';

/** The generate stage: prompts.arrow + the start (or warm-up) policy -> completions.arrow, the "before" picture. */
export async function generateStage(ctx: StageContext<GenerateConfig>): Promise<string> {
  const s = ctx.settings;
  const prompts = tableRows<PromptRow>(await ctx.readInput('prompts'));
  const loaded = await loadPolicy(ctx.inputPath('policy')!, ctx.root);
  try {
    const main = prompts.filter((p) => p.is_main && s.splits.includes(p.split as 'train' | 'test')).length;
    const total = s.limit > 0 ? Math.min(s.limit, main) : main;
    const progress = createProgress({ stage: 'generate', task: 'groups', total, unit: 'questions' });
    const started = performance.now();
    let tokens = 0;
    const { table, stats } = await generateGroups(prompts, loaded.policy, loaded.tokenizer, s, {
      seed: ctx.seed, maxSeqLength: loaded.record.max_seq_length,
      onBatch: (n, t) => { tokens += t; progress.tick(n, `${(tokens / ((performance.now() - started) / 1000)).toFixed(0)} tokens/s`); },
    });
    progress.done();
    await ctx.writeOutput('completions', table);
    const report = {
      ...stats,
      group_size: table.numRows / Math.max(stats.questions, 1),
      completion_tokens_per_second: stats.completionTokens / Math.max(stats.samplingSeconds, 1e-9),
      prompt_tokens_per_second: stats.promptTokens / Math.max(stats.samplingSeconds, 1e-9),
    };
    await ctx.writeOutput('report', JSON.stringify(report, null, 2) + '\n');
    const finish = Object.entries(stats.finish).map(([k, v]) => `${v} ${k}`).join(', ');
    return `${stats.completions} completions in ${stats.questions} groups of ${report.group_size}, ${stats.completionTokens} tokens at ${report.completion_tokens_per_second.toFixed(0)} tokens/s (${finish})`;
  } finally {
    await loaded.policy.release();
  }
}
