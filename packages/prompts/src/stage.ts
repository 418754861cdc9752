import type { PromptsConfig, StageContext } from '@ragrpo/config';
import { policyFolder, readPolicyRecord, tableRows } from '@ragrpo/contracts';
import { loadTokenizer } from '@ragrpo/model';
import { createProgress } from '@ragrpo/progress';
import { buildPrompts, type QuestionRow } from './build-prompts.ts';
import type { RankedChunk } from './context.ts';
import { resolveTemplate } from './templates/resolve-template.ts';

/** The prompts stage: ingest's questions + rank's in-context chunks + the policy's tokenizer -> prompts.arrow. */
export async function promptsStage(ctx: StageContext<PromptsConfig>): Promise<string> {
  const s = ctx.settings;
  const templates = [
    resolveTemplate(s.template, ctx.resolve, 'prompts.template'),
    ...s.alternatives.map((t, i) => resolveTemplate(t, ctx.resolve, `prompts.alternatives[${i}]`)),
  ];
  const recordFile = ctx.inputPath('policy')!;
  const record = await readPolicyRecord(recordFile);
  const tokenizer = await loadTokenizer(policyFolder(record, recordFile, ctx.root));
  const questions = tableRows<QuestionRow>(await ctx.readInput('questions'));
  const ranked = tableRows<RankedChunk>(await ctx.readInput('ranked'));
  // Leave at least one position for the completion; generate checks its own length against the rest.
  const maxPromptTokens = Math.min(s.max_prompt_length, record.max_seq_length - 1);
  const progress = createProgress({ stage: 'prompts', task: 'render', total: questions.length, unit: 'questions' });
  const { table, report } = buildPrompts(questions, ranked, tokenizer, {
    templates, contextOrder: s.context_order, maxPromptTokens, maxChunkChars: s.max_chunk_chars, system: s.system,
    onQuestion: () => progress.tick(),
  });
  progress.done();
  if (report.no_context) ctx.log.warn(`${report.no_context} prompts carry no context (nothing retrieved for the question, or nothing fitted): flagged no_context`);
  if (report.truncated) ctx.log.warn(`${report.truncated} prompts were longer than ${maxPromptTokens} tokens even without context: their first tokens were cut (flagged truncated)`);
  await ctx.writeOutput('prompts', table);
  await ctx.writeOutput('report', JSON.stringify({ ...report, max_prompt_length: maxPromptTokens, context_order: s.context_order }, null, 2) + '\n');
  return `${report.prompts} prompts (${report.questions} questions x ${templates.map((t) => t.name).join(', ')}), mean ${report.mean_prompt_tokens.toFixed(0)} / max ${report.max_prompt_tokens} tokens, ${report.with_dropped_chunks} with chunks dropped to fit ${maxPromptTokens}`;
}
