/**
 * tokenizer.json + tokenizer_config.json rebuilt from a GGUF's `tokenizer.*` metadata, for byte-level
 * BPE vocabularies (`tokenizer.ggml.model = gpt2`: Llama 3, Qwen2/2.5, SmolLM, DeepSeek-R1-Distill).
 *
 * - model: BPE over `tokenizer.ggml.tokens` (id = index) and `tokenizer.ggml.merges`;
 * - added tokens: token type 3 (control) as special, 4 (user-defined) as plain added tokens;
 * - pre-tokenizer: llama.cpp's split for `tokenizer.ggml.pre` (llama-vocab.cpp), written as the
 *   Hugging Face pre-tokenizer the original tokenizer.json had (Digits + ByteLevel for smollm, a
 *   Split regex + ByteLevel for llama3 and qwen2, ByteLevel for gpt-2);
 * - BOS/EOS added by the post-processor only when `tokenizer.ggml.add_bos_token`/`add_eos_token` say
 *   so (llama.cpp's defaults: llama3 adds BOS, the others do not);
 * - tokenizer_config.json: the special tokens by content, `tokenizer.chat_template`, model_max_length
 *   from the context length.
 */
import { GgufError } from './errors.ts';
import type { Metadata } from './read-gguf.ts';

/** llama.cpp token types (llama.h LLAMA_TOKEN_TYPE_*). */
const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

// The llama.cpp regexes (llama-vocab.cpp), which spell the Hugging Face (?i:'s|...) group as character classes.
const LLAMA3_SPLIT =
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_SPLIT =
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const byteLevel = (useRegex: boolean) => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: useRegex });
const split = (regex: string) => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });

interface PreTokenizerSpec {
  preTokenizer: Record<string, unknown>;
  /** llama.cpp's add_bos default for this pre-tokenizer (overridden by tokenizer.ggml.add_bos_token). */
  addBos: boolean;
  /** llama.cpp's ignore_merges: a word that is itself a token is not split. */
  ignoreMerges: boolean;
  /** llama.cpp's clean_spaces, i.e. transformers' clean_up_tokenization_spaces. */
  cleanSpaces: boolean;
}

/** `tokenizer.ggml.pre` values (llama-vocab.cpp) and the Hugging Face pre-tokenizer each stands for. */
const PRE_TOKENIZERS: Record<string, PreTokenizerSpec> = {};
const define = (names: string[], spec: PreTokenizerSpec) => { for (const n of names) PRE_TOKENIZERS[n] = spec; };
define(['llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'pixtral'], {
  preTokenizer: { type: 'Sequence', pretokenizers: [split(LLAMA3_SPLIT), byteLevel(false)] }, addBos: true, ignoreMerges: true, cleanSpaces: true,
});
define(['qwen2', 'deepseek-r1-qwen', 'megrez'], {
  preTokenizer: { type: 'Sequence', pretokenizers: [split(QWEN2_SPLIT), byteLevel(false)] }, addBos: false, ignoreMerges: false, cleanSpaces: false,
});
define(['smollm', 'starcoder', 'refact', 'codeshell'], {
  preTokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel(true)] }, addBos: false, ignoreMerges: false, cleanSpaces: false,
});
define(['gpt-2', 'phi-2', 'mpt', 'olmo'], { preTokenizer: byteLevel(true), addBos: false, ignoreMerges: false, cleanSpaces: true });
// smollm has clean_spaces false in llama.cpp; starcoder/refact/codeshell keep the BPE default (true).
for (const n of ['starcoder', 'refact', 'codeshell']) PRE_TOKENIZERS[n] = { ...PRE_TOKENIZERS[n]!, cleanSpaces: true };

export const SUPPORTED_PRE_TOKENIZERS: readonly string[] = Object.keys(PRE_TOKENIZERS);

export interface ImportedTokenizer {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  /** Number of ids (tokens). */
  size: number;
  specialTokens: { bos: string | null; eos: string | null; pad: string | null; unk: string | null };
}

export function buildTokenizer(md: Metadata, opts: { modelMaxLength: number }): ImportedTokenizer {
  const file = md.file;
  const model = md.str('tokenizer.ggml.model', null);
  if (model === null) throw new GgufError(`${file}: no tokenizer in the GGUF (tokenizer.ggml.model missing)`);
  if (model !== 'gpt2') {
    const what = model === 'llama' ? 'SentencePiece (Llama 2, Mistral v0.1, TinyLlama)' : model;
    throw new GgufError(`${file}: tokenizer.ggml.model '${model}' (${what}) is not supported; the importer rebuilds byte-level BPE tokenizers ('gpt2': Llama 3, Qwen2, SmolLM, DeepSeek-R1-Distill)`);
  }
  const pre = md.str('tokenizer.ggml.pre', 'default')!;
  const spec = PRE_TOKENIZERS[pre];
  if (!spec) {
    throw new GgufError(`${file}: pre-tokenizer '${pre}' (tokenizer.ggml.pre) is not supported; supported: ${SUPPORTED_PRE_TOKENIZERS.join(', ')}`);
  }
  const tokens = md.strings('tokenizer.ggml.tokens');
  if (!tokens) throw new GgufError(`${file}: tokenizer.ggml.tokens is missing`);
  const merges = md.strings('tokenizer.ggml.merges');
  if (!merges) throw new GgufError(`${file}: tokenizer.ggml.merges is missing (a BPE vocabulary needs its merges)`);
  const types = md.numbers('tokenizer.ggml.token_type') ?? tokens.map(() => TOKEN_TYPE.NORMAL);
  if (types.length !== tokens.length) throw new GgufError(`${file}: tokenizer.ggml.token_type has ${types.length} entries for ${tokens.length} tokens`);

  const id = (key: string): number | null => {
    const v = md.num(`tokenizer.ggml.${key}`, null);
    if (v === null) return null;
    if (v < 0 || v >= tokens.length) throw new GgufError(`${file}: tokenizer.ggml.${key} ${v} is outside the vocabulary (${tokens.length} tokens)`);
    return v;
  };
  const content = (i: number | null) => (i === null ? null : tokens[i]!);
  const bos = id('bos_token_id'), eos = id('eos_token_id'), pad = id('padding_token_id'), unk = id('unknown_token_id');
  const addBos = md.bool('tokenizer.ggml.add_bos_token', spec.addBos) && bos !== null;
  const addEos = md.bool('tokenizer.ggml.add_eos_token', false) && eos !== null;

  const vocab: Record<string, number> = {};
  const seen = new Set<string>();
  tokens.forEach((t, i) => {
    if (seen.has(t)) throw new GgufError(`${file}: token ${JSON.stringify(t)} appears twice in tokenizer.ggml.tokens (ids ${vocab[t]} and ${i})`);
    seen.add(t);
    vocab[t] = i;
  });
  const mergePairs = merges.map((m, i) => {
    const at = m.indexOf(' ', 1); // as llama.cpp: a merge's first part may itself start with a space
    if (at < 0) throw new GgufError(`${file}: merge ${i} ${JSON.stringify(m)} has no space between its two parts`);
    return [m.slice(0, at), m.slice(at + 1)];
  });

  const added: Record<string, unknown>[] = [];
  tokens.forEach((t, i) => {
    const ty = types[i];
    if (ty === TOKEN_TYPE.CONTROL || ty === TOKEN_TYPE.USER_DEFINED || i === bos || i === eos || i === pad || i === unk) {
      added.push({ id: i, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: ty !== TOKEN_TYPE.USER_DEFINED });
    }
  });

  const template = (withBos: boolean, withEos: boolean) => {
    const single: unknown[] = [];
    const pair: unknown[] = [];
    const sp = (tokenId: number, typeId: number) => ({ SpecialToken: { id: tokens[tokenId]!, type_id: typeId } });
    if (withBos) { single.push(sp(bos!, 0)); pair.push(sp(bos!, 0)); }
    single.push({ Sequence: { id: 'A', type_id: 0 } });
    pair.push({ Sequence: { id: 'A', type_id: 0 } });
    if (withEos) { single.push(sp(eos!, 0)); pair.push(sp(eos!, 0)); }
    if (withBos) pair.push(sp(bos!, 1));
    pair.push({ Sequence: { id: 'B', type_id: 1 } });
    if (withEos) pair.push(sp(eos!, 1));
    const specials: Record<string, unknown> = {};
    for (const i of [withBos ? bos : null, withEos ? eos : null]) if (i !== null) specials[tokens[i]!] = { id: tokens[i]!, ids: [i], tokens: [tokens[i]!] };
    return { type: 'TemplateProcessing', single, pair, special_tokens: specials };
  };
  const postProcessor = addBos || addEos
    ? { type: 'Sequence', processors: [{ ...byteLevel(false), trim_offsets: false }, template(addBos, addEos)] }
    : { ...byteLevel(false), trim_offsets: false };

  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: spec.preTokenizer,
    post_processor: postProcessor,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: spec.ignoreMerges,
      vocab,
      merges: mergePairs,
    },
  };

  const addedDecoder: Record<string, unknown> = {};
  for (const a of added) {
    addedDecoder[String(a['id'])] = { content: a['content'], lstrip: false, normalized: false, rstrip: false, single_word: false, special: a['special'] };
  }
  const chatTemplate = md.str('tokenizer.chat_template', null);
  const tokenizerConfig: Record<string, unknown> = {
    add_bos_token: addBos,
    add_eos_token: addEos,
    add_prefix_space: false,
    added_tokens_decoder: addedDecoder,
    bos_token: content(bos),
    eos_token: content(eos),
    pad_token: content(pad),
    unk_token: content(unk),
    clean_up_tokenization_spaces: spec.cleanSpaces,
    model_max_length: opts.modelMaxLength,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
  if (chatTemplate !== null) tokenizerConfig['chat_template'] = chatTemplate;
  return {
    tokenizerJson,
    tokenizerConfig,
    size: tokens.length,
    specialTokens: { bos: content(bos), eos: content(eos), pad: content(pad), unk: content(unk) },
  };
}
