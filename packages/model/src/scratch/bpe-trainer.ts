/**
 * A byte-level BPE trainer (GPT-2 / Qwen2 style) whose result is written as a Hugging Face `tokenizer.json`.
 *
 * Hand-written because the Hugging Face `tokenizers` trainer is Rust/Python only and the npm tokenizer packages
 * (@huggingface/tokenizers, used by transformers.js) encode and decode but do not train.
 *
 * The algorithm is the textbook one (Sennrich et al. 2016, as GPT-2 and `tokenizers`' BpeTrainer apply it):
 *  1. Added tokens are cut out of the texts (never merged across), the rest is pre-split with the GPT-2 regex (the
 *     regex the ByteLevel pre-tokenizer applies at encode time) and counted: a table word -> frequency.
 *  2. Every word starts as its UTF-8 bytes; ids 0..255 are the byte values, spelled with GPT-2's printable
 *     byte-to-unicode table.
 *  3. Repeatedly the most frequent adjacent pair (counted over the word table, weighted by word frequency) is merged
 *     into a new token, left to right and non-overlapping inside each word ("aaa" with a+a gives [aa, a]), until the
 *     vocabulary (bytes + merges + added tokens) reaches `vocabSize` or no pair occurs `minFrequency` times.
 *
 * Determinism: the result depends only on the texts (in order) and the options. Ties between pairs of equal count
 * break on the pair's text: the pair whose `left + "\u0000" + right` is smallest in UTF-16 code-unit order wins.
 *
 * Incremental: pair counts are computed once, then updated per merge from the words that contain the merged pair
 * (an index pair -> words), and the best pair comes from a max-heap with lazy deletion (an entry is stale when its
 * count no longer equals the pair's current count). A merge costs time in the words it touches, not the corpus.
 * This gives exactly the merges of recounting every pair after every merge, which the first version did.
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

/**
 * The added tokens of every scratch model, in id order after the merges: ChatML's control tokens, and
 * <think>/</think> as (non-special) text tokens, as in Qwen3.
 */
export const CHATML_ADDED_TOKENS: readonly SpecialToken[] = [
  { content: '<|endoftext|>', special: true },
  { content: '<|im_start|>', special: true },
  { content: '<|im_end|>', special: true },
  { content: '<think>', special: false },
  { content: '</think>', special: false },
];

export interface BpeTokenizerSpec {
  /** token -> id; ids 0..255 are the single bytes (id = byte value), then merges in order, then added tokens. */
  vocab: Map<string, number>;
  /**
   * Merges in rank order. Can be longer than the merged tokens: two pairs may spell one token (a+bc, ab+c); it
   * keeps one id and both merges are recorded.
   */
  merges: [string, string][];
  addedTokens: { id: number; content: string; special: boolean }[];
  /** Total vocabulary size including added tokens. */
  size: number;
}
/** The name the first version used. */
export type TrainedBpe = BpeTokenizerSpec;

export interface TrainBpeOptions {
  /** Bytes (256) + merged tokens + added tokens. Training stops earlier when no pair occurs `minFrequency` times. */
  vocabSize: number;
  /** Added tokens, appended after the merges in this order. Default: CHATML_ADDED_TOKENS. */
  specialTokens?: readonly SpecialToken[];
  /** A pair must occur at least this often (weighted by word frequency) to become a token. Default 2. */
  minFrequency?: number;
}

/** Symbol ids are < 2^21, so a pair (a, b) is the safe integer a * 2^21 + b. */
const PAIR_BASE = 2 ** 21;

/**
 * Trains a byte-level BPE on `texts`. Each text is pre-tokenised on its own (texts are not joined), so
 * `["a", "b"]` and `["a\nb"]` differ by the newline word only.
 */
export function trainByteLevelBpe(texts: Iterable<string>, opts: TrainBpeOptions): BpeTokenizerSpec {
  const added = opts.specialTokens ?? CHATML_ADDED_TOKENS;
  const minFrequency = opts.minFrequency ?? 2;
  if (!Number.isSafeInteger(opts.vocabSize)) throw new Error(`vocab size must be an integer, got ${opts.vocabSize}`);
  if (!Number.isSafeInteger(minFrequency) || minFrequency < 1) throw new Error(`minFrequency must be an integer >= 1, got ${minFrequency}`);
  const numTokens = opts.vocabSize - added.length; // bytes + merged tokens
  if (numTokens < 256) throw new Error(`vocab size ${opts.vocabSize} is smaller than 256 bytes + ${added.length} added tokens`);
  if (numTokens >= PAIR_BASE) throw new Error(`vocab size ${opts.vocabSize} is too large (at most ${PAIR_BASE - 1})`);
  const byteChar = bytesToUnicode();

  // 1. word table
  const escaped = added.map((t) => t.content.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const addedRe = escaped.length ? new RegExp(escaped.join('|'), 'g') : null;
  const rawCounts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of addedRe ? text.split(addedRe) : [text]) {
      for (const m of piece.matchAll(GPT2_SPLIT)) rawCounts.set(m[0], (rawCounts.get(m[0]) ?? 0) + 1);
    }
  }
  const enc = new TextEncoder();
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [w, c] of rawCounts) {
    words.push(Array.from(enc.encode(w)));
    freq.push(c);
  }

  // 2. symbols: id -> text; text -> id (two merges spelling one text share the id)
  const symText: string[] = [...byteChar];
  const symId = new Map<string, number>(symText.map((s, i) => [s, i]));

  // pair counts and the words each pair occurs in (may hold words that lost the pair: checked on use)
  const counts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const addPairs = (w: number, s: number[], c: number, delta: Map<number, number> | null): void => {
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i]! * PAIR_BASE + s[i + 1]!;
      if (delta) delta.set(key, (delta.get(key) ?? 0) + c);
      else counts.set(key, (counts.get(key) ?? 0) + c);
      if (c > 0) {
        let set = where.get(key);
        if (!set) where.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, words[w]!, freq[w]!, null);

  // 3. max-heap on (count desc, pair text asc), lazy deletion
  const pairText = (key: number): string => symText[Math.floor(key / PAIR_BASE)]! + '\u0000' + symText[key % PAIR_BASE]!;
  const heap = new PairHeap(pairText);
  for (const [key, c] of counts) if (c >= minFrequency) heap.push(c, key);

  const merges: [string, string][] = [];
  while (symId.size < numTokens) {
    let best = -1;
    while (heap.size > 0) {
      const top = heap.pop();
      if (top.count >= minFrequency && counts.get(top.key) === top.count) {
        best = top.key;
        break;
      }
    }
    if (best < 0) break;
    const a = Math.floor(best / PAIR_BASE);
    const b = best % PAIR_BASE;
    const mergedText = symText[a]! + symText[b]!;
    merges.push([symText[a]!, symText[b]!]);
    let m = symId.get(mergedText);
    if (m === undefined) {
      m = symText.length;
      symText.push(mergedText);
      symId.set(mergedText, m);
    }
    const delta = new Map<number, number>();
    const touched = [...where.get(best)!].sort((x, y) => x - y);
    for (const w of touched) {
      const s = words[w]!;
      let found = false;
      for (let i = 0; i + 1 < s.length; i++) {
        if (s[i] === a && s[i + 1] === b) {
          found = true;
          break;
        }
      }
      if (!found) continue;
      const out: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(m);
          i++;
        } else {
          out.push(s[i]!);
        }
      }
      addPairs(w, s, -freq[w]!, delta);
      addPairs(w, out, freq[w]!, delta);
      words[w] = out;
    }
    where.delete(best);
    for (const [key, d] of delta) {
      if (d === 0) continue;
      const c = (counts.get(key) ?? 0) + d;
      if (c === 0) counts.delete(key);
      else counts.set(key, c);
      // every changed count gets a fresh entry; the old one is now stale (its count differs) and is skipped
      if (c >= minFrequency) heap.push(c, key);
    }
  }

  const vocab = new Map<string, number>(symText.map((s, i) => [s, i]));
  const addedTokens = added.map((t, i) => ({ id: vocab.size + i, content: t.content, special: t.special }));
  return { vocab, merges, addedTokens, size: vocab.size + addedTokens.length };
}

/**
 * Binary max-heap of (count, pair): larger count first, then smaller pair text. Entries are never updated in
 * place: whenever a pair's count changes the trainer pushes a new entry, and a popped entry whose count is not
 * the pair's current count is stale and dropped.
 */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  private text: (key: number) => string;
  constructor(text: (key: number) => string) {
    this.text = text;
  }
  get size(): number {
    return this.keys.length;
  }
  /** true when entry i ranks above entry j */
  private above(i: number, j: number): boolean {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    if (ci !== cj) return ci > cj;
    return this.text(this.keys[i]!) < this.text(this.keys[j]!);
  }
  private swap(i: number, j: number): void {
    const c = this.counts[i]!;
    this.counts[i] = this.counts[j]!;
    this.counts[j] = c;
    const k = this.keys[i]!;
    this.keys[i] = this.keys[j]!;
    this.keys[j] = k;
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.keys.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): { count: number; key: number } {
    const top = { count: this.counts[0]!, key: this.keys[0]! };
    const last = this.keys.length - 1;
    this.swap(0, last);
    this.counts.pop();
    this.keys.pop();
    let i = 0;
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < n && this.above(l, best)) best = l;
      if (r < n && this.above(r, best)) best = r;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
    return top;
  }
}

/** The Hugging Face `tokenizer.json` document for a trained byte-level BPE. */
export function tokenizerJson(bpe: BpeTokenizerSpec): Record<string, unknown> {
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
