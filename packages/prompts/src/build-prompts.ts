import { Prompts, tableFromRows } from '@ragrpo/contracts';
import type { Table } from 'apache-arrow';
import { contextByQuestion, type RankedChunk } from './context.ts';
import { renderPrompt, type PromptTokenizer } from './render-prompt.ts';
import type { TemplateSpec } from './templates/builtin.ts';

export interface QuestionRow {
  question_id: string;
  question: string;
  reference: string | null;
  split: string;
}

export interface BuildPromptsOptions {
  /** The main template first, then the alternatives. */
  templates: TemplateSpec[];
  contextOrder: 'rank' | 'similarity';
  maxPromptTokens: number;
  maxChunkChars: number;
  system: string;
  onQuestion?: () => void;
}

export interface PromptsReport {
  questions: number;
  templates: string[];
  prompts: number;
  max_prompt_tokens: number;
  mean_prompt_tokens: number;
  with_dropped_chunks: number;
  chunks_dropped: number;
  no_context: number;
  truncated: number;
}

/** prompts.arrow: one row per question and template, in question order. */
export function buildPrompts(questions: QuestionRow[], ranked: RankedChunk[], tokenizer: PromptTokenizer, o: BuildPromptsOptions): { table: Table; report: PromptsReport } {
  const names = o.templates.map((t) => t.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`prompts: two templates are named '${dup}'; give a template file a distinct name: (prompts.alternatives[].name)`);
  const contexts = contextByQuestion(ranked, o.contextOrder, o.maxChunkChars);
  const rows = [];
  for (const q of questions) {
    const chunks = contexts.get(q.question_id) ?? [];
    for (const [i, template] of o.templates.entries()) {
      const p = renderPrompt(template, q.question, chunks, tokenizer, { maxTokens: o.maxPromptTokens, system: o.system });
      rows.push({
        question_id: q.question_id, split: q.split, template: template.name, is_main: i === 0,
        question: q.question, reference: q.reference ?? null,
        prompt: p.text, prompt_ids: p.ids, prompt_tokens: p.ids.length, context: p.context,
        chunk_ids: p.chunks.map((c) => c.chunkId), chunks_dropped: p.chunksDropped,
        no_context: p.chunks.length === 0, truncated: p.truncated,
      });
    }
    o.onQuestion?.();
  }
  const lengths = rows.map((r) => r.prompt_tokens);
  const report: PromptsReport = {
    questions: questions.length, templates: names, prompts: rows.length,
    max_prompt_tokens: lengths.length ? Math.max(...lengths) : 0,
    mean_prompt_tokens: lengths.length ? lengths.reduce((a, b) => a + b, 0) / lengths.length : 0,
    with_dropped_chunks: rows.filter((r) => r.chunks_dropped > 0).length,
    chunks_dropped: rows.reduce((a, r) => a + r.chunks_dropped, 0),
    no_context: rows.filter((r) => r.no_context).length,
    truncated: rows.filter((r) => r.truncated).length,
  };
  return { table: tableFromRows(Prompts, rows), report };
}
