import type { ChatMessage } from '@ragrpo/model';
import { numberedDocuments, plainContext, type ContextChunk } from './context.ts';
import { fillTemplate } from './templates/resolve-template.ts';
import type { TemplateSpec } from './templates/builtin.ts';

/** The part of a tokenizer prompts need (the engine's Tokenizer has it). */
export interface PromptTokenizer {
  folder: string;
  hasChatTemplate: boolean;
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  applyChatTemplate(messages: ChatMessage[], opts?: { addGenerationPrompt?: boolean }): string;
}

export interface RenderedPrompt {
  text: string;
  ids: number[];
  /** The chunks the prompt carries, in order. */
  chunks: ContextChunk[];
  context: string;
  chunksDropped: number;
  truncated: boolean;
}

/** Whether a template goes through the tokenizer's chat template; an error when it must and cannot. */
export function usesChatTemplate(template: TemplateSpec, tokenizer: PromptTokenizer): boolean {
  if (template.chat === 'always' && !tokenizer.hasChatTemplate) {
    throw new Error(`${tokenizer.folder}: the tokenizer has no chat template, which prompts.template '${template.name}' needs; use alpaca, context_only or a template file, or a model whose tokenizer_config.json has a chat_template`);
  }
  return template.chat === 'always' || (template.chat === 'if-available' && tokenizer.hasChatTemplate);
}

function renderText(template: TemplateSpec, question: string, chunks: readonly ContextChunk[], tokenizer: PromptTokenizer, system: string, chat: boolean) {
  const documents = numberedDocuments(chunks);
  const user = fillTemplate(template.text, { question, documents, context: plainContext(chunks) });
  if (!chat) return { text: user, ids: tokenizer.encode(user, { addSpecialTokens: true }), documents };
  const messages: ChatMessage[] = system ? [{ role: 'system', content: system }, { role: 'user', content: user }] : [{ role: 'user', content: user }];
  const text = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
  // The chat template writes any BOS itself: no special tokens are added again.
  return { text, ids: tokenizer.encode(text, { addSpecialTokens: false }), documents };
}

/**
 * One prompt within `maxTokens`: whole chunks are dropped from the end of the context until it
 * fits. Should even the bare question be too long, its first tokens are cut (TRL keeps the end of
 * a prompt too), at token boundaries; the prompt is never cut mid-token and never fails.
 */
export function renderPrompt(
  template: TemplateSpec, question: string, chunks: readonly ContextChunk[], tokenizer: PromptTokenizer,
  opts: { maxTokens: number; system: string },
): RenderedPrompt {
  const chat = usesChatTemplate(template, tokenizer);
  for (let keep = chunks.length; keep >= 0; keep--) {
    const used = chunks.slice(0, keep);
    const r = renderText(template, question, used, tokenizer, opts.system, chat);
    if (r.ids.length <= opts.maxTokens) {
      return { text: r.text, ids: r.ids, chunks: used, context: r.documents, chunksDropped: chunks.length - keep, truncated: false };
    }
  }
  const bare = renderText(template, question, [], tokenizer, opts.system, chat);
  return { text: bare.text, ids: bare.ids.slice(bare.ids.length - opts.maxTokens), chunks: [], context: '', chunksDropped: chunks.length, truncated: true };
}
