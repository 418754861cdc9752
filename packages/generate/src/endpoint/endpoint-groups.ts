/**
 * generate with `endpoint:`: the same groups (greedy reference, temperature and template variants, samples) asked
 * of an OpenAI-compatible chat endpoint, one request per member with its own seed, `concurrency` at a time.
 *
 * What differs from the policy's completions, and why it is for evaluation only: the endpoint returns text,
 * so `logprobs` is an empty list and `completion_ids` is the completion text re-encoded with the policy's tokenizer
 * (what the token-count rewards count), not the endpoint model's tokens. grpo-train never reads these: GRPO
 * samples its own policy.
 */
import { streamSeed, type GenerateConfig } from '@ragrpo/config';
import { Completions, tableFromRows } from '@ragrpo/contracts';
import type { Table } from 'apache-arrow';
import type { GenerateStats, PromptRow } from '../groups/generate-groups.ts';
import { planRun } from '../groups/plan-group.ts';
import type { ChatEndpoint } from './chat-endpoint.ts';
import { promptMessages, type TemplateTokenizer } from './prompt-messages.ts';

export interface EndpointPromptRow extends PromptRow {
  prompt: string;
}

export interface EndpointStats extends GenerateStats {
  /** Token counts the endpoint reported (its own tokenizer). */
  endpointPromptTokens: number;
  endpointCompletionTokens: number;
  requests: number;
}

interface Job { qi: number; variant: number; member: number }

export async function endpointGroups(
  prompts: EndpointPromptRow[], endpoint: ChatEndpoint,
  tokenizer: TemplateTokenizer & { encode(text: string, opts?: { addSpecialTokens?: boolean }): number[] },
  s: GenerateConfig, o: { seed: number; onBatch?: (questions: number, tokens: number) => void },
): Promise<{ table: Table; stats: EndpointStats }> {
  const { questions, plan, promptFor } = planRun(prompts, s);
  const messagesOf = new Map<EndpointPromptRow, ReturnType<typeof promptMessages>>();

  const stats: EndpointStats = {
    questions: questions.length, completions: 0, promptTokens: 0, completionTokens: 0, samplingSeconds: 0, finish: {},
    endpointPromptTokens: 0, endpointCompletionTokens: 0, requests: 0,
  };
  const rows: { [K in keyof (typeof Completions)['columns']]: unknown }[] = [];
  for (let b = 0; b < questions.length; b += s.prompts_per_batch) {
    const batch = questions.slice(b, b + s.prompts_per_batch);
    const jobs: Job[] = [];
    batch.forEach((_, qi) => plan.forEach((v, vi) => { for (let k = 0; k < v.count; k++) jobs.push({ qi, variant: vi, member: k }); }));
    const started = performance.now();
    const replies = await endpoint.map(jobs, async (j) => {
      const q = batch[j.qi];
      const v = plan[j.variant];
      const row = promptFor(q.question_id, v.template);
      let messages = messagesOf.get(row);
      if (!messages) { messages = promptMessages(row.prompt, tokenizer); messagesOf.set(row, messages); }
      const reply = await endpoint.chat(messages, {
        temperature: v.temperature, top_p: s.top_p, max_tokens: s.max_completion_length, stop: s.stop,
        seed: streamSeed(o.seed, `generate:${q.question_id}:${j.variant}:${j.member}`),
        top_k: s.top_k, min_p: s.min_p, repetition_penalty: s.repetition_penalty,
      });
      return { row, reply };
    });
    stats.samplingSeconds += (performance.now() - started) / 1000;
    let batchTokens = 0;
    const groupIndex = batch.map(() => 0);
    jobs.forEach((j, i) => {
      const { row, reply } = replies[i];
      const v = plan[j.variant];
      const completion = reply.reasoning !== null && !reply.content.includes('</think>') ? `<think>\n${reply.reasoning}\n</think>\n\n${reply.content}` : reply.content;
      const ids = completion === '' ? [] : tokenizer.encode(completion, { addSpecialTokens: false });
      const finish = reply.finishReason === 'length' ? 'length' : s.stop.some((x) => reply.content.includes(x)) ? 'stop' : 'eos';
      rows.push({
        question_id: batch[j.qi].question_id, split: batch[j.qi].split, group_index: groupIndex[j.qi]++,
        variant: v.variant, template: v.template, temperature: v.temperature,
        completion, answer: reply.answer, reasoning: reply.reasoning,
        completion_ids: ids, logprobs: [], completion_tokens: ids.length, finish_reason: finish,
      });
      stats.promptTokens += row.prompt_ids.length;
      stats.completionTokens += ids.length;
      stats.endpointPromptTokens += reply.promptTokens ?? 0;
      stats.endpointCompletionTokens += reply.completionTokens ?? 0;
      stats.finish[finish] = (stats.finish[finish] ?? 0) + 1;
      batchTokens += ids.length;
    });
    stats.requests += jobs.length;
    o.onBatch?.(batch.length, batchTokens);
  }
  stats.completions = rows.length;
  return { table: tableFromRows(Completions, rows), stats };
}
