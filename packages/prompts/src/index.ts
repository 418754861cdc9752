// @ragrpo/prompts: prompts from templates with the ranked context (seed 002's alpaca, the model's
// chat template, seed 003's context-only and score-the-documents prompts, or a user file).
export { BUILTIN_TEMPLATES, type TemplateSpec } from './templates/builtin.ts';
export { resolveTemplate, fillTemplate } from './templates/resolve-template.ts';
export { contextByQuestion, numberedDocuments, plainContext, type RankedChunk, type ContextChunk } from './context.ts';
export { renderPrompt, usesChatTemplate, type PromptTokenizer, type RenderedPrompt } from './render-prompt.ts';
export { buildPrompts, type QuestionRow, type BuildPromptsOptions, type PromptsReport } from './build-prompts.ts';
export { promptsStage } from './stage.ts';
