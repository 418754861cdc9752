/**
 * Tokenizer loading from a local Hugging Face model folder through @huggingface/transformers
 * (AutoTokenizer reads tokenizer.json + tokenizer_config.json). Nothing is ever fetched: remote
 * models are disabled, and a missing file is reported with the folder name before transformers.js
 * would try anything.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';

export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | string;
  content: string;
}

export class TokenizerError extends Error {
  override name = 'TokenizerError';
}

/** A loaded tokenizer plus the facts the engine needs about it. */
export interface Tokenizer {
  folder: string;
  /** The underlying transformers.js tokenizer (for anything not wrapped here). */
  hf: PreTrainedTokenizer;
  /** Number of ids the tokenizer can produce: max id over model vocab and added tokens, plus one. */
  vocabSize: number;
  /** Ids of special (control) tokens: skipped by decode(skipSpecialTokens). */
  specialTokenIds: number[];
  eosTokenId: number | null;
  padTokenId: number | null;
  bosTokenId: number | null;
  hasChatTemplate: boolean;
  /** Text -> ids. Never adds BOS/EOS unless `addSpecialTokens` and the tokenizer's post-processor does so. */
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string;
  /** Renders the chat template to text. */
  applyChatTemplate(messages: ChatMessage[], opts?: { addGenerationPrompt?: boolean }): string;
  /** Renders the chat template and tokenizes the result (no extra special tokens added). */
  applyChatTemplateIds(messages: ChatMessage[], opts?: { addGenerationPrompt?: boolean }): number[];
  tokenToId(token: string): number | null;
}

/** Max id + 1 over `model.vocab` and `added_tokens` of a tokenizer.json document. */
function tokenizerJsonVocabSize(doc: unknown, file: string): { size: number; special: number[] } {
  const d = doc as { model?: { vocab?: unknown }; added_tokens?: { id: number; special?: boolean }[] };
  let max = -1;
  const vocab = d.model?.vocab;
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab)) {
    for (const id of Object.values(vocab as Record<string, number>)) if (typeof id === 'number' && id > max) max = id;
  } else if (Array.isArray(vocab)) {
    max = vocab.length - 1; // Unigram: [[piece, score], ...]
  } else {
    throw new TokenizerError(`${file}: no model.vocab found; is this a Hugging Face tokenizer.json?`);
  }
  const special: number[] = [];
  for (const t of d.added_tokens ?? []) {
    if (t.id > max) max = t.id;
    if (t.special) special.push(t.id);
  }
  return { size: max + 1, special };
}

/**
 * Loads the tokenizer of a local model folder. Pass `configVocabSize` (config.json vocab_size) to
 * check the tokenizer cannot produce ids past the embedding table.
 */
export async function loadTokenizer(folder: string, opts: { configVocabSize?: number } = {}): Promise<Tokenizer> {
  const abs = path.resolve(folder);
  const missing = TOKENIZER_FILES.filter((f) => !fs.existsSync(path.join(abs, f)));
  if (missing.length > 0) {
    throw new TokenizerError(
      `${abs}: tokenizer file(s) missing: ${missing.join(', ')}; a model folder needs ${TOKENIZER_FILES.join(' and ')} (Hugging Face layout)`,
    );
  }
  const tokJsonPath = path.join(abs, 'tokenizer.json');
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(tokJsonPath, 'utf8'));
  } catch (e) {
    throw new TokenizerError(`${tokJsonPath}: not valid JSON (${(e as Error).message})`);
  }
  const { size: vocabSize, special } = tokenizerJsonVocabSize(doc, tokJsonPath);
  if (opts.configVocabSize !== undefined && vocabSize > opts.configVocabSize) {
    throw new TokenizerError(
      `${abs}: tokenizer has ${vocabSize} ids but config.json vocab_size is ${opts.configVocabSize}; ids past the embedding table would crash the model (mismatched tokenizer and weights?)`,
    );
  }

  // Local only. An absolute path is not a valid hub id, so transformers.js reads it as a path
  // as-is; localModelPath is set to the parent folder so that relative resolution agrees too.
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(abs) + path.sep;
  let hf: PreTrainedTokenizer;
  try {
    hf = await AutoTokenizer.from_pretrained(abs, { local_files_only: true });
  } catch (e) {
    throw new TokenizerError(`${abs}: transformers.js could not load the tokenizer (${(e as Error).message})`);
  }

  const tokenToId = (token: string): number | null => {
    const id = hf.convert_tokens_to_ids(token) as number | undefined | null;
    return typeof id === 'number' ? id : null;
  };
  const idOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const hasChatTemplate = typeof hf.chat_template === 'string' || (hf.chat_template !== null && typeof hf.chat_template === 'object');

  const encode = (text: string, o: { addSpecialTokens?: boolean } = {}): number[] =>
    hf.encode(text, { add_special_tokens: o.addSpecialTokens ?? false });
  const applyChatTemplate = (messages: ChatMessage[], o: { addGenerationPrompt?: boolean } = {}): string => {
    if (!hasChatTemplate) {
      throw new TokenizerError(`${abs}: tokenizer_config.json has no chat_template; cannot format chat messages`);
    }
    return hf.apply_chat_template(messages as never, {
      tokenize: false,
      add_generation_prompt: o.addGenerationPrompt ?? false,
    }) as unknown as string;
  };

  return {
    folder: abs,
    hf,
    vocabSize,
    specialTokenIds: special,
    eosTokenId: idOrNull(hf.eos_token_id),
    padTokenId: idOrNull(hf.pad_token_id),
    bosTokenId: idOrNull(hf.bos_token_id),
    hasChatTemplate,
    encode,
    // transformers.js throws on an empty list; an empty completion is ordinary here.
    decode: (ids, o = {}) => (ids.length === 0 ? '' : hf.decode([...ids], { skip_special_tokens: o.skipSpecialTokens ?? false })),
    applyChatTemplate,
    applyChatTemplateIds: (messages, o = {}) => encode(applyChatTemplate(messages, o)),
    tokenToId,
  };
}
