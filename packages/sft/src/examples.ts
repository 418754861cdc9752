import type { SftExample } from '@ragrpo/model';

/** The columns of prompts.arrow the finetune phase reads. */
export interface PromptRow {
  question_id: string;
  split: string;
  is_main: boolean;
  reference: string | null;
  prompt_ids: ArrayLike<number>;
}

export interface FinetuneExample extends SftExample {
  questionId: string;
}

export interface FinetuneData {
  examples: FinetuneExample[];
  /** Questions of the split (main template rows). */
  questions: number;
  /** Questions without a reference answer: nothing to learn from, skipped. */
  noReference: number;
  /** Examples whose answer was cut at its end to fit maxLength. */
  truncated: number;
  /** Answer tokens dropped by that cut (the EOS token included). */
  truncatedTokens: number;
  /** Prompts that leave no room for a single answer token within maxLength: skipped. */
  promptTooLong: number;
}

export interface FinetuneOptions {
  /** 'train' or 'test'. */
  split: string;
  /** The policy tokenizer's encode, without special tokens. */
  encode: (text: string) => number[];
  eosId: number;
  /** prompt + answer tokens at most. */
  maxLength: number;
  /** true: loss on the answer tokens only (TRL's completion_only_loss); false: on the prompt's too (but its first). */
  completionOnly: boolean;
}

/**
 * One example per question of the split with a reference: the main template's prompt ids and the reference
 * tokenized + EOS. The answer's end is cut to fit `maxLength`. With `completionOnly: false` the whole sequence
 * but its first token becomes the completion, so every token is predicted (plain language modelling).
 */
export function finetuneExamples(rows: readonly PromptRow[], o: FinetuneOptions): FinetuneData {
  const data: FinetuneData = { examples: [], questions: 0, noReference: 0, truncated: 0, truncatedTokens: 0, promptTooLong: 0 };
  for (const row of rows) {
    if (!row.is_main || row.split !== o.split) continue;
    data.questions++;
    if (row.reference === null || row.reference.trim() === '') { data.noReference++; continue; }
    const prompt = Array.from(row.prompt_ids);
    const room = o.maxLength - prompt.length;
    if (room < 1 || prompt.length === 0) { data.promptTooLong++; continue; }
    let answer = [...o.encode(row.reference), o.eosId];
    if (answer.length > room) {
      data.truncated++;
      data.truncatedTokens += answer.length - room;
      answer = answer.slice(0, room);
    }
    data.examples.push(o.completionOnly
      ? { questionId: row.question_id, promptIds: prompt, completionIds: answer }
      : { questionId: row.question_id, promptIds: prompt.slice(0, 1), completionIds: [...prompt.slice(1), ...answer] });
  }
  return data;
}

export interface PackedText {
  /** maxLength-token windows, as (first token, the rest) pairs: the loss falls on every token the model predicts. */
  windows: SftExample[];
  /** Tokens of the whole stream (texts + EOS separators). */
  tokens: number;
  /** Tokens of the last, partial window: dropped (as transformers' group_texts drops them). */
  dropped: number;
}

/**
 * Pretraining data: the texts tokenized, concatenated with EOS between them, cut into windows of `maxLength`
 * tokens. A window is a pair (its first token, the rest), so the SFT loss is the next-token loss on all of it.
 */
export function packTexts(texts: Iterable<string>, encode: (text: string) => number[], eosId: number, maxLength: number): PackedText {
  if (!Number.isInteger(maxLength) || maxLength < 2) throw new Error(`max_length must be at least 2, got ${maxLength}`);
  const windows: SftExample[] = [];
  let buf: number[] = [];
  let first = true;
  for (const text of texts) {
    const ids = encode(text);
    if (!first) buf.push(eosId);
    first = false;
    for (const id of ids) buf.push(id);
    while (buf.length >= maxLength) {
      windows.push({ promptIds: buf.slice(0, 1), completionIds: buf.slice(1, maxLength) });
      buf = buf.slice(maxLength);
    }
  }
  return { windows, tokens: windows.length * maxLength + buf.length, dropped: buf.length };
}

/** A seeded Fisher-Yates permutation of 0..n-1. */
export function permutation(n: number, uniform: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
