// The scratch-model builder (packages/model/src/scratch/): byte-level BPE training, tokenizer files that
// @huggingface/transformers loads, seeded weights, atomic deterministic folders.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildScratchModel,
  bytesToUnicode,
  GPT2_SPLIT,
  loadModel,
  loadTokenizer,
  trainByteLevelBpe,
  type ScratchModelOptions,
  type Tokenizer,
} from '../src/index.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ragrpo-scratch-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'];

/** A few KB of varied text: English reviews, German, code, numbers, a <think> block. */
function smallCorpus(): string[] {
  const wines = ['Riesling', 'Pinot Noir', 'Chardonnay', 'Syrah', 'Grüner Veltliner', 'Spätburgunder'];
  const notes = ['cherry', 'lemon peel', 'green apple', 'vanilla', 'pepper', 'honey', 'Pfirsich', 'Äpfel'];
  const texts: string[] = [];
  for (let i = 0; i < 60; i++) {
    const w = wines[i % wines.length]!;
    const n = notes[(i * 7) % notes.length]!;
    texts.push(`This ${w} shows ${n} and ${notes[(i * 3 + 1) % notes.length]}; ${80 + (i % 20)} points, $${10 + i}.`);
    texts.push(`Der ${w} aus der Pfalz schmeckt nach ${n}, trocken und frisch. Größe: ${i} Flaschen.`);
    texts.push(`def score_${i % 5}(x):\n    return x * ${i} + len("${n}")  # points`);
    texts.push(`<think>The reviewer scored ${w} ${80 + (i % 20)} points.</think>It scored ${80 + (i % 20)}.`);
  }
  return texts;
}

function opts(out: string, extra: Partial<ScratchModelOptions> = {}): ScratchModelOptions {
  return {
    out,
    arch: 'llama',
    layers: 1,
    hidden: 32,
    heads: 4,
    intermediate: 64,
    maxPositions: 128,
    seed: 7,
    corpus: smallCorpus(),
    vocabSize: 400,
    ...extra,
  };
}

/**
 * The first version of the trainer, kept as the reference: recount every pair after every merge. The incremental
 * trainer must give exactly its merges.
 */
function naiveBpe(texts: string[], vocabSize: number): [string, string][] {
  const byteChar = bytesToUnicode();
  const enc = new TextEncoder();
  const counts = new Map<string, number>();
  for (const t of texts) for (const m of t.matchAll(GPT2_SPLIT)) {
    const w = Array.from(enc.encode(m[0]), (b) => byteChar[b]!).join('');
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const words = [...counts].map(([w, count]) => ({ s: Array.from(w), count }));
  const vocab = new Set(byteChar);
  const merges: [string, string][] = [];
  while (vocab.size < vocabSize) {
    const pairs = new Map<string, number>();
    for (const { s, count } of words) for (let i = 0; i + 1 < s.length; i++) {
      const k = s[i] + '\u0000' + s[i + 1];
      pairs.set(k, (pairs.get(k) ?? 0) + count);
    }
    let best: string | null = null;
    let bestCount = 1;
    for (const [k, c] of pairs) if (c > bestCount || (c === bestCount && best !== null && k < best)) [best, bestCount] = [k, c];
    if (best === null) break;
    const [a, b] = best.split('\u0000') as [string, string];
    merges.push([a, b]);
    vocab.add(a + b);
    for (const w of words) {
      const out: string[] = [];
      for (let i = 0; i < w.s.length; i++) {
        if (i + 1 < w.s.length && w.s[i] === a && w.s[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(w.s[i]!);
      }
      w.s = out;
    }
  }
  return merges;
}

describe('trainByteLevelBpe', () => {
  it('gives the hand-computed merges on "aaabdaaabac"', () => {
    // One word (the GPT-2 regex keeps a run of letters together): a a a b d a a a b a c.
    // Round 1, pair counts: (a,a) 4 [positions 0-1, 1-2, 5-6, 6-7], (a,b) 2, (b,d) 1, (d,a) 1, (b,a) 1, (a,c) 1
    //   -> merge a+a. Left to right, non-overlapping: [aa, a, b, d, aa, a, b, a, c].
    // Round 2: (aa,a) 2, (a,b) 2, (b,d) 1, (d,aa) 1, (b,a) 1, (a,c) 1. Tie at 2: "a\0b" < "aa\0a" (second code
    //   unit \0 < 'a') -> merge a+b: [aa, ab, d, aa, ab, a, c].
    // Round 3: (aa,ab) 2, every other pair 1 -> merge aa+ab = "aaab": [aaab, d, aaab, a, c].
    // Round 4: all pairs occur once; below minFrequency 2, training stops (the Wikipedia example's Z, Y, X).
    const r = trainByteLevelBpe(['aaabdaaabac'], { vocabSize: 300, specialTokens: [] });
    expect(r.merges).toEqual([
      ['a', 'a'],
      ['a', 'b'],
      ['aa', 'ab'],
    ]);
    expect(r.size).toBe(259);
    expect(r.vocab.get('aaab')).toBe(258);
    // minFrequency 1 keeps merging pairs seen once; the next is (a,c) ("a\0c" is smallest among the four)
    const r1 = trainByteLevelBpe(['aaabdaaabac'], { vocabSize: 260, specialTokens: [], minFrequency: 1 });
    expect(r1.merges[3]).toEqual(['a', 'c']);
  });

  it('gives exactly the merges of recounting every pair after every merge', () => {
    const texts = [
      ...smallCorpus(),
      'aaaa aaaaa aaa aa abab ababab bbbb', // overlapping runs
      'abc abc abc bcd bcd abcd abcd xab xab', // a+bc and ab+c can spell one token
      ...Array.from({ length: 300 }, (_, i) => `Lot ${i * 7919} of vintage ${1990 + (i % 30)}, rated ${80 + (i % 17)}.`),
    ];
    const naive = naiveBpe(texts, 700);
    const fast = trainByteLevelBpe(texts, { vocabSize: 700, specialTokens: [] });
    expect(naive.length).toBeGreaterThan(400);
    expect(fast.merges).toEqual(naive);
  });

  it('never merges across added tokens and appends them after the merges', () => {
    const r = trainByteLevelBpe(['x<think>y</think>z '.repeat(50)], { vocabSize: 300 });
    expect(r.addedTokens.map((t) => t.content)).toEqual(['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<think>', '</think>']);
    expect(r.addedTokens[0]!.id).toBe(r.vocab.size);
    for (const tok of r.vocab.keys()) expect(tok.includes('think')).toBe(false);
  });

  it('refuses a vocabulary smaller than bytes + added tokens', () => {
    expect(() => trainByteLevelBpe(['abc'], { vocabSize: 260 })).toThrow(/smaller than 256 bytes \+ 5 added tokens/);
  });
});

describe('buildScratchModel', () => {
  let out: string;
  let tok: Tokenizer;
  beforeAll(async () => {
    const r = await buildScratchModel(opts(path.join(tmp, 'a')));
    out = r.out;
    expect(r.files).toEqual(FILES);
    expect(r.tokenizerSize).toBe(400);
    tok = await loadTokenizer(out);
  });

  it('writes a folder loadModel loads, with exactly the requested vocabulary', async () => {
    const m = await loadModel(out);
    expect(m.config).toMatchObject({ architecture: 'LlamaForCausalLM', numLayers: 1, hiddenSize: 32, vocabSize: 400 });
    expect(tok.vocabSize).toBe(400);
    expect(m.generation.eosTokenIds).toEqual([tok.eosTokenId, tok.padTokenId]);
    expect(tok.bosTokenId).toBeNull();
  });

  it('round-trips arbitrary text through transformers.js', () => {
    const texts = [
      'Grüße aus München: Straße, Äpfel, Öl, Übermut — ß',
      'emoji 🍷🍇 👩‍💻 🇩🇪 and CJK 中文 ワイン, Ελληνικά',
      'function f(x) {\n\treturn x ** 2; // code\r\n}\n\n   trailing   ',
      '<|im_start|>user\nhi<|im_end|>\n<think>why</think>because',
      '',
    ];
    for (const t of texts) expect(tok.decode(tok.encode(t))).toBe(t);
  });

  it('renders ChatML and keeps <think> and </think> single tokens', () => {
    const text = tok.applyChatTemplate(
      [
        { role: 'system', content: 'Answer from the context.' },
        { role: 'user', content: 'How many points?' },
      ],
      { addGenerationPrompt: true },
    );
    expect(text).toBe('<|im_start|>system\nAnswer from the context.<|im_end|>\n<|im_start|>user\nHow many points?<|im_end|>\n<|im_start|>assistant\n');
    const think = tok.tokenToId('<think>')!;
    const endThink = tok.tokenToId('</think>')!;
    expect(tok.encode('<think>')).toEqual([think]);
    expect(tok.encode('</think>')).toEqual([endThink]);
    const ids = tok.encode('<think>87 points</think>It scored 87.');
    expect(ids[0]).toBe(think);
    expect(ids.filter((i) => i === endThink)).toHaveLength(1);
    // <think> is a text token (kept by skipSpecialTokens), the ChatML markers are control tokens
    expect(tok.specialTokenIds).not.toContain(think);
    expect(tok.specialTokenIds).toContain(tok.tokenToId('<|im_end|>'));
  });

  it('same inputs give byte-identical files; another seed changes only the weights', async () => {
    const b = (await buildScratchModel(opts(path.join(tmp, 'b')))).out;
    const c = (await buildScratchModel(opts(path.join(tmp, 'c'), { seed: 8 }))).out;
    for (const f of FILES) expect(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(b, f))), f).toBe(true);
    for (const f of FILES) {
      expect(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(c, f))), f).toBe(f !== 'model.safetensors');
    }
  });

  it('writes atomically: replaces an existing model folder, refuses a folder with other files, leaves no temp folder', async () => {
    const dir = path.join(tmp, 'atomic');
    await buildScratchModel(opts(dir, { arch: 'qwen2' }));
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), '{}'); // stale shard index: must go
    const r = await buildScratchModel(opts(dir, { arch: 'smollm' }));
    expect(fs.readdirSync(dir).sort()).toEqual([...FILES].sort());
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).num_key_value_heads).toBe(1);
    expect(r.config.numKvHeads).toBe(1);

    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    await expect(buildScratchModel(opts(dir))).rejects.toThrow(/refusing to replace .*notes\.txt/);
    expect(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('trains on texts of any size in well under a second per thousand merges', () => {
    // 2,000 distinct review-like lines (about 200 KB): a recount-per-merge trainer takes seconds here
    const texts = Array.from({ length: 2000 }, (_, i) => `Review ${i}: ${smallCorpus()[i % 240]} Vintage ${1990 + (i % 30)}, lot ${i * 7919}.`);
    const t0 = performance.now();
    const r = trainByteLevelBpe(texts, { vocabSize: 1500 });
    expect(r.size).toBe(1500);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
