import type { GenerateConfig, StageContext } from '@ragrpo/config';
import { policyFolder, readPolicyRecord, tableRows } from '@ragrpo/contracts';
import { loadTokenizer } from '@ragrpo/model';
import { createProgress } from '@ragrpo/progress';
import { createChatEndpoint } from './endpoint/chat-endpoint.ts';
import { endpointGroups, type EndpointPromptRow } from './endpoint/endpoint-groups.ts';
import { generateGroups, type PromptRow } from './groups/generate-groups.ts';
import { loadPolicy } from './sampling/load-policy.ts';

const ENDPOINT_NOTE = 'completions from an endpoint: text only, no log-probs (logprobs are empty lists, completion_ids the text re-encoded with the policy tokenizer): for evaluation, not training';

/** generate.endpoint: the groups asked of an OpenAI-compatible endpoint; the policy's tokenizer only reads the prompts' messages. */
async function endpointStage(ctx: StageContext<GenerateConfig>, prompts: EndpointPromptRow[]): Promise<string> {
  const s = ctx.settings;
  const e = s.endpoint!;
  const endpoint = createChatEndpoint(e, 'generate.endpoint');
  const recordFile = ctx.inputPath('policy')!;
  const tokenizer = await loadTokenizer(policyFolder(await readPolicyRecord(recordFile), recordFile, ctx.root));
  ctx.log.warn(ENDPOINT_NOTE);
  const main = prompts.filter((p) => p.is_main && s.splits.includes(p.split as 'train' | 'test')).length;
  const progress = createProgress({ stage: 'generate', task: `groups from ${e.model}`, total: s.limit > 0 ? Math.min(s.limit, main) : main, unit: 'questions' });
  const { table, stats } = await endpointGroups(prompts, endpoint, tokenizer, s, { seed: ctx.seed, onBatch: (n) => progress.tick(n) });
  progress.done();
  await ctx.writeOutput('completions', table);
  const report = {
    ...stats,
    group_size: table.numRows / Math.max(stats.questions, 1),
    endpoint: { base_url: e.base_url, model: e.model },
    logprobs: false,
    note: ENDPOINT_NOTE,
    requests_per_second: stats.requests / Math.max(stats.samplingSeconds, 1e-9),
  };
  await ctx.writeOutput('report', JSON.stringify(report, null, 2) + '\n');
  const finish = Object.entries(stats.finish).map(([k, v]) => `${v} ${k}`).join(', ');
  return `${stats.completions} completions in ${stats.questions} groups from ${e.model} at ${e.base_url} in ${stats.samplingSeconds.toFixed(1)} s (${finish}); text only, no log-probs: evaluation only`;
}

/** The generate stage: prompts.arrow + the start (or warm-up) policy -> completions.arrow, the "before" picture. */
export async function generateStage(ctx: StageContext<GenerateConfig>): Promise<string> {
  const s = ctx.settings;
  const prompts = tableRows<PromptRow>(await ctx.readInput('prompts'));
  if (s.endpoint) return endpointStage(ctx, prompts as EndpointPromptRow[]);
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
