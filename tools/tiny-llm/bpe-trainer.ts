/**
 * A small byte-level BPE trainer (GPT-2 / Qwen2 style) producing a Hugging Face `tokenizer.json`.
 *
 * Hand-written because the Hugging Face `tokenizers` trainer is Rust/Python only and the npm
 * tokenizer packages (@huggingface/tokenizers, used by transformers.js) encode and decode but do
 * not train. The algorithm is the textbook one: pre-split with the GPT-2 regex (the same regex the
 * ByteLevel pre-tokenizer applies at encode time), map bytes to printable characters, then merge
 * the most frequent adjacent pair until the vocabulary is full. Ties break on the pair text so the
 * result is deterministic.
 */

/** GPT-2 pre-tokenisation regex, as the ByteLevel pre-tokenizer uses with use_regex: true. */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's reversible byte -> printable unicode character table. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const table: string[] = new Array(256);
  for (const b of bs) table[b] = String.fromCodePoint(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) table[b] = String.fromCodePoint(256 + n++);
  }
  return table;
}

export interface SpecialToken {
  content: string;
  /** true: control token (skipped by decode(skip_special_tokens)); false: added text token like Qwen3's <think>. */
  special: boolean;
}

export interface TrainedBpe {
  /** token -> id; ids 0..255 are the single bytes (id = byte value), then merges in order, then added tokens. */
  vocab: Map<string, number>;
  merges: [string, string][];
  addedTokens: { id: number; content: string; special: boolean }[];
  /** Total vocabulary size including added tokens. */
  size: number;
}

/**
 * Trains until `vocabSize` tokens (bytes + merges + added tokens) or until no pair occurs twice.
 */
export function trainByteLevelBpe(text: string, vocabSize: number, added: SpecialToken[]): TrainedBpe {
  const numMerges = vocabSize - 256 - added.length;
  if (numMerges < 0) throw new Error(`vocab size ${vocabSize} is smaller than 256 bytes + ${added.length} added tokens`);
  const byteChar = bytesToUnicode();
  const enc = new TextEncoder();

  // Added tokens are never merged across: split them out of the training text first.
  const escaped = added.map((t) => t.content.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const pieces = escaped.length ? text.split(new RegExp(escaped.join('|'), 'g')) : [text];
  const wordCounts = new Map<string, number>();
  for (const piece of pieces) {
    for (const m of piece.matchAll(GPT2_SPLIT)) {
      const w = Array.from(enc.encode(m[0]), (b) => byteChar[b]!).join('');
      wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
    }
  }
  const words = [...wordCounts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([w, count]) => ({ symbols: Array.from(w), count }));

  const vocab = new Map<string, number>();
  for (let b = 0; b < 256; b++) vocab.set(byteChar[b]!, b);
  const merges: [string, string][] = [];
  const SEP = '\u0000';
  while (vocab.size < 256 + numMerges) {
    const pairCounts = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = symbols[i] + SEP + symbols[i + 1];
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best: string | null = null;
    let bestCount = 1; // a pair seen once is not worth a token
    for (const [key, c] of pairCounts) {
      if (c > bestCount || (c === bestCount && best !== null && key < best)) {
        best = key;
        bestCount = c;
      }
    }
    if (best === null) break;
    const [a, b] = best.split(SEP) as [string, string];
    const merged = a + b;
    merges.push([a, b]);
    // Two different pairs can spell the same token (a+bc, ab+c): keep one id, record both merges.
    if (!vocab.has(merged)) vocab.set(merged, vocab.size);
    for (const w of words) {
      const s = w.symbols;
      if (s.length < 2) continue;
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(merged);
          i++;
        } else {
          out.push(s[i]!);
        }
      }
      w.symbols = out;
    }
  }
  const addedTokens = added.map((t, i) => ({ id: vocab.size + i, content: t.content, special: t.special }));
  return { vocab, merges, addedTokens, size: vocab.size + addedTokens.length };
}

/** The Hugging Face `tokenizer.json` document for a trained byte-level BPE. */
export function tokenizerJson(bpe: TrainedBpe): Record<string, unknown> {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: bpe.addedTokens.map((t) => ({
      id: t.id,
      content: t.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: t.special,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(bpe.vocab),
      merges: bpe.merges,
    },
  };
}
