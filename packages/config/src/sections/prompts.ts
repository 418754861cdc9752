import { z } from 'zod';

// prompts: one prompt per question and template, with the ranked context (built once).

/** Built-in templates, or a user file with {question}, {context} and/or {documents} placeholders. */
export const TemplateRef = z.union([
  z.enum(['alpaca', 'chat', 'context_only', 'score_documents']),
  z.strictObject({
    file: z.string(),
    /** The template's name in prompts.arrow and generate.template_variants (default: the file name). */
    name: z.string().regex(/^[\w-]+$/).optional(),
    /** Render the filled text as the user message of the model's chat template. */
    chat: z.boolean().default(false),
  }),
]);

export const PromptsSection = z.strictObject({
  /** The main template: what sft trains on, grpo samples from and evaluate asks. */
  template: TemplateRef.default('chat'),
  /** More templates, rendered too, for generate's template variants (seed 000). */
  alternatives: z.array(TemplateRef).default([]),
  /** System message of the chat templates (the model's own chat template renders it). */
  system: z.string().default('You answer questions about the documents you are given.'),
  /** Which order the rank stage's in-context chunks are listed in: its context order (POV, blended by rank.pov_weight), or retrieval's. */
  context_order: z.enum(['rank', 'similarity']).default('rank'),
  /** Prompt tokens at most (TRL's max_prompt_length); whole chunks are dropped from the end of the context to fit. */
  max_prompt_length: z.number().int().positive().default(512),
  /** Characters of each chunk at most (0 = whole chunk). */
  max_chunk_chars: z.number().int().min(0).default(0),
});
