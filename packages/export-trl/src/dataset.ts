import type { ChatMessage } from '@ragrpo/model';

/** The part of a tokenizer the dataset needs (the engine's Tokenizer has it). */
export interface ChatTokenizer {
  hasChatTemplate: boolean;
  applyChatTemplate(messages: ChatMessage[], opts?: { addGenerationPrompt?: boolean }): string;
}

/** The prompts.arrow columns the export reads. */
export interface PromptRow {
  question_id: string;
  split: string;
  template: string;
  is_main: boolean;
  question: string;
  reference: string | null;
  prompt: string;
  context: string;
  truncated: boolean;
}

/** One dataset row as TRL reads it: `prompt` (messages or text), then the columns every reward receives. */
export interface TrlRow {
  prompt: ChatMessage[] | string;
  question_id: string;
  question: string;
  reference: string | null;
  context: string;
}

export interface TrlDataset {
  rows: TrlRow[];
  /** Whether `prompt` is conversational (TRL applies the policy's chat template itself). */
  conversational: boolean;
  /** Why the prompts are plain text when the policy has a chat template (null otherwise). */
  plainReason: string | null;
}

const SYSTEM = '\u0000ragrpo-system\u0000';
const USER = '\u0000ragrpo-user\u0000';
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The skeletons of the chat template (system + user, and user alone) as patterns that capture the contents. */
function chatPatterns(tokenizer: ChatTokenizer): { pattern: RegExp; roles: ('system' | 'user')[] }[] {
  const shapes: { messages: ChatMessage[]; roles: ('system' | 'user')[] }[] = [
    { messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: USER }], roles: ['system', 'user'] },
    { messages: [{ role: 'user', content: USER }], roles: ['user'] },
  ];
  const out: { pattern: RegExp; roles: ('system' | 'user')[] }[] = [];
  for (const s of shapes) {
    const skeleton = tokenizer.applyChatTemplate(s.messages, { addGenerationPrompt: true });
    const parts = skeleton.split(new RegExp(`${escape(SYSTEM)}|${escape(USER)}`));
    if (parts.length !== s.roles.length + 1) continue;
    // every content lazy but the last (a system text rarely holds the template's separators; a user text might)
    const groups = parts.slice(1).map((lit, i) => `${i === parts.length - 2 ? '([\\s\\S]*)' : '([\\s\\S]*?)'}${escape(lit)}`);
    out.push({ pattern: new RegExp(`^${escape(parts[0])}${groups.join('')}$`), roles: s.roles });
  }
  return out;
}

/**
 * The chat messages a prompt was rendered from, recovered by matching the chat template's skeleton and
 * checked by rendering them again: the same text, so TRL's own chat templating gives the same tokens.
 * Null when the text is not one rendered conversation (a plain template, or a prompt cut to fit).
 */
export function recoverMessages(text: string, tokenizer: ChatTokenizer, patterns = chatPatterns(tokenizer)): ChatMessage[] | null {
  for (const { pattern, roles } of patterns) {
    const m = pattern.exec(text);
    if (!m) continue;
    const messages = roles.map((role, i) => ({ role, content: m[i + 1] }));
    if (tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }) === text) return messages;
  }
  return null;
}

/**
 * The train split's main-template prompts as TRL's dataset: conversational `prompt` when the policy has a
 * chat template and every prompt is a rendered conversation (TRL needs one kind for the whole dataset),
 * otherwise the rendered text itself (a standard prompt, which TRL tokenizes as is).
 */
export function trlDataset(prompts: readonly PromptRow[], tokenizer: ChatTokenizer): TrlDataset {
  const train = prompts.filter((p) => p.is_main && p.split === 'train');
  if (train.length === 0) throw new Error('prompts.arrow has no train-split prompts of the main template: nothing to train on (check ingest.questions.test_fraction)');
  const columns = (p: PromptRow) => ({ question_id: p.question_id, question: p.question, reference: p.reference, context: p.context });
  let plainReason: string | null = null;
  if (tokenizer.hasChatTemplate) {
    const patterns = chatPatterns(tokenizer);
    const messages = train.map((p) => (p.truncated ? null : recoverMessages(p.prompt, tokenizer, patterns)));
    const bad = messages.findIndex((m) => m === null);
    if (bad < 0) {
      return { rows: train.map((p, i) => ({ prompt: messages[i]!, ...columns(p) })), conversational: true, plainReason: null };
    }
    const p = train[bad];
    plainReason = p.truncated
      ? `question ${p.question_id}'s prompt was cut to fit prompts.max_prompt_length, so it is no longer a whole conversation`
      : `question ${p.question_id}'s prompt (template ${p.template}) is not a rendering of the chat template`;
  }
  return { rows: train.map((p) => ({ prompt: p.prompt, ...columns(p) })), conversational: false, plainReason };
}

/** JSON Lines, one row per line (what `datasets.load_dataset("json", ...)` reads). */
export function jsonLines(rows: readonly object[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}
