import type { GenerateConfig } from '@ragrpo/config';
import { streamSeed } from '@ragrpo/config';
import { Completions, tableFromRows } from '@ragrpo/contracts';
import { assertSequenceLength, type Policy, type Tokenizer } from '@ragrpo/model';
import type { Table } from 'apache-arrow';
import { sampleCompletions } from '../sampling/sample-completions.ts';
import { planRun } from './plan-group.ts';

export interface PromptRow {
  question_id: string;
  split: string;
  template: string;
  is_main: boolean;
  prompt_ids: ArrayLike<number>;
}

interface CompletionRow {
  question_id: string; split: string; group_index: number; variant: string; template: string; temperature: number;
  completion: string; answer: string; reasoning: string | null;
  completion_ids: number[]; logprobs: number[]; completion_tokens: number; finish_reason: string;
}

export interface GenerateStats {
  questions: number;
  completions: number;
  promptTokens: number;
  completionTokens: number;
  /** Seconds inside the engine's sample() calls (prefill + decode + the sampler's JS). */
  samplingSeconds: number;
  finish: Record<string, number>;
}

/**
 * completions.arrow: every question's group, sampled prompts_per_batch questions at a time, one
 * engine call per group variant (the group's members share one prefill). Seeds derive from the
 * pipeline seed, the batch and the variant, so a re-run gives the same completions.
 */
export async function generateGroups(
  prompts: PromptRow[], policy: Policy, tokenizer: Tokenizer, s: GenerateConfig,
  o: { seed: number; maxSeqLength: number; onBatch?: (questions: number, tokens: number) => void },
): Promise<{ table: Table; stats: GenerateStats }> {
  const { questions, plan, promptFor } = planRun(prompts, s);
  const longest = Math.max(...prompts.map((p) => p.prompt_ids.length));
  try {
    assertSequenceLength(policy.config, longest + s.max_completion_length);
  } catch (e) {
    throw new Error(`generate.max_completion_length ${s.max_completion_length} + the longest prompt (${longest} tokens): ${(e as Error).message}; lower one of them, or prompts.max_prompt_length`);
  }
  if (longest + s.max_completion_length > o.maxSeqLength) {
    throw new Error(`generate.max_completion_length ${s.max_completion_length} + the longest prompt (${longest} tokens) exceeds policy.max_seq_length ${o.maxSeqLength}; lower prompts.max_prompt_length or max_completion_length`);
  }

  const rows: CompletionRow[] = [];
  const stats: GenerateStats = { questions: questions.length, completions: 0, promptTokens: 0, completionTokens: 0, samplingSeconds: 0, finish: {} };
  for (let b = 0; b < questions.length; b += s.prompts_per_batch) {
    const batch = questions.slice(b, b + s.prompts_per_batch);
    const members: CompletionRow[][] = batch.map(() => []);
    let batchTokens = 0;
    for (const [vi, v] of plan.entries()) {
      const rowsFor = batch.map((q) => promptFor(q.question_id, v.template));
      const started = performance.now();
      const groups = await sampleCompletions(policy, tokenizer, rowsFor.map((r) => Array.from(r.prompt_ids)), {
        ...s, temperature: v.temperature, groupSize: v.count, seed: streamSeed(o.seed, `generate:${b}:${vi}`),
      });
      stats.samplingSeconds += (performance.now() - started) / 1000;
      groups.forEach((group, qi) => {
        stats.promptTokens += rowsFor[qi].prompt_ids.length * group.length;
        for (const c of group) {
          members[qi].push({
            question_id: batch[qi].question_id, split: batch[qi].split, group_index: members[qi].length,
            variant: v.variant, template: v.template, temperature: v.temperature,
            completion: c.text, answer: c.answer, reasoning: c.reasoning,
            completion_ids: c.ids, logprobs: c.logprobs, completion_tokens: c.ids.length, finish_reason: c.finishReason,
          });
          stats.completionTokens += c.ids.length;
          batchTokens += c.ids.length;
          stats.finish[c.finishReason] = (stats.finish[c.finishReason] ?? 0) + 1;
        }
      });
    }
    for (const m of members) rows.push(...m);
    o.onBatch?.(batch.length, batchTokens);
  }
  stats.completions = rows.length;
  return { table: tableFromRows(Completions, rows), stats };
}
