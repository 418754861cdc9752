/**
 * The tokenizer files of the tiny embedder, in the Hugging Face `tokenizers` JSON format a BERT
 * checkpoint ships (tokenizer.json + tokenizer_config.json), so transformers.js loads it through
 * its ordinary BertTokenizer path.
 */

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

const SUFFIXES = ['s', 'es', 'ed', 'ing', 'ly', 'er', 'est', 'en', 'e', 'n', 'y', 'ion', 'ions', 'ness'];

/**
 * Vocabulary: the special tokens (ids 0-4), then the sorted union of every corpus word, every
 * character of the corpus (plus a-z and 0-9) alone and as a '##' continuation, and a few common
 * suffixes. Any word made of known characters therefore tokenizes; sorting keeps ids stable.
 */
export function buildVocab(corpus: readonly string[]): string[] {
  const pieces = new Set<string>();
  const chars = new Set('abcdefghijklmnopqrstuvwxyz0123456789!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
  for (const line of corpus) {
    // Same split as BertPreTokenizer: runs of letters/digits, and each punctuation mark alone.
    for (const m of line.toLowerCase().matchAll(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu)) {
      pieces.add(m[0]);
      for (const c of m[0]) chars.add(c);
    }
  }
  for (const c of chars) { pieces.add(c); pieces.add(`##${c}`); }
  for (const s of SUFFIXES) pieces.add(`##${s}`);
  return [...SPECIAL_TOKENS, ...[...pieces].sort()];
}

function special(content: string, id: number) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

export function tokenizerJson(vocab: readonly string[]): object {
  const id = (t: string) => vocab.indexOf(t);
  const cls = { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] };
  const sep = { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t) => special(t, id(t))),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: false, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': cls, '[SEP]': sep },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
}

export function tokenizerConfigJson(maxLength: number): object {
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    strip_accents: false,
    model_max_length: maxLength,
    clean_up_tokenization_spaces: true,
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    mask_token: '[MASK]',
  };
}
