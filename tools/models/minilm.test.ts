/**
 * The real embedder: all-MiniLM-L6-v2 from the PyPI wheel, converted by tools/models (ONNX from the
 * project's BERT graph code), run through @ragrpo/embed's dense embedder (transformers.js
 * feature-extraction, mean pooling, L2 normalisation), against sentence-transformers' embeddings
 * of the same 20 sentences (tools/reference/minilm_fixtures.py). Needs models/all-minilm-l6-v2
 * (`npx tsx tools/models/fetch.ts all-minilm-l6-v2`); skipped, and says so, when it is absent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDenseEmbedder, type DenseEmbedder } from '@ragrpo/embed';
import { loadTokenizer } from '@ragrpo/model';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MODEL = path.join(ROOT, 'models', 'all-minilm-l6-v2');
const present = fs.existsSync(path.join(MODEL, 'onnx', 'model.onnx'));
if (!present) {
  console.warn(`minilm.test.ts: SKIPPED the all-MiniLM-L6-v2 vs sentence-transformers checks: ${path.relative(ROOT, MODEL)} is absent (npx tsx tools/models/fetch.ts all-minilm-l6-v2)`);
}

interface Fixture {
  oracle: Record<string, string>;
  max_seq_length: number;
  dim: number;
  sentences: string[];
  /** Texts longer than max_seq_length (not among the 20): see the last test. */
  over_length: number[];
  input_ids: number[][];
  embeddings_float32_base64: string;
}
const fixture = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'minilm-embeddings.json'), 'utf8')) as Fixture;
const reference = new Float32Array(new Uint8Array(Buffer.from(fixture.embeddings_float32_base64, 'base64')).buffer);
const within = fixture.sentences.map((_, i) => i).filter((i) => !fixture.over_length.includes(i));

function cosine(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, dim: number): { cos: number; norm: number; maxAbs: number } {
  let dot = 0, na = 0, nb = 0, maxAbs = 0;
  for (let j = 0; j < dim; j++) {
    const x = a[ao + j]!, y = b[bo + j]!;
    dot += x * y; na += x * x; nb += y * y;
    maxAbs = Math.max(maxAbs, Math.abs(x - y));
  }
  return { cos: dot / Math.sqrt(na * nb), norm: Math.sqrt(na), maxAbs };
}

describe.skipIf(!present)('all-MiniLM-L6-v2 vs sentence-transformers ' + fixture.oracle['sentence-transformers'], () => {
  let embedder: DenseEmbedder;
  beforeAll(async () => {
    embedder = await loadDenseEmbedder({ model: MODEL, root: ROOT, batchSize: 8 });
  });
  afterAll(async () => { await embedder?.dispose(); });

  it('tokenizes the 20 sentences as the Python tokenizer does', async () => {
    expect(within.length).toBe(20);
    const tok = (await loadTokenizer(MODEL)).hf;
    for (const i of within) {
      const ids = tok(fixture.sentences[i]!, { truncation: true, max_length: fixture.max_seq_length }).input_ids.tolist()[0].map(Number);
      expect(ids, JSON.stringify(fixture.sentences[i]!.slice(0, 40))).toEqual(fixture.input_ids[i]);
    }
  });

  it('embeds the 20 sentences with cosine >= 0.9999 to sentence-transformers (mean pooling + normalize)', async () => {
    expect(embedder.pooling).toBe('mean');
    expect(embedder.normalize).toBe(true);
    const texts = within.map((i) => fixture.sentences[i]!);
    const { flat, dim } = await embedder.embed(texts, 'document');
    expect(dim).toBe(fixture.dim);
    let worst = 1;
    let maxAbs = 0;
    within.forEach((s, k) => {
      const r = cosine(flat, k * dim, reference, s * dim, dim);
      worst = Math.min(worst, r.cos);
      maxAbs = Math.max(maxAbs, r.maxAbs);
      expect(Math.abs(r.norm - 1), `sentence ${s} is not unit length`).toBeLessThan(1e-5);
      expect(r.cos, `sentence ${s}: ${JSON.stringify(fixture.sentences[s]!.slice(0, 40))}`).toBeGreaterThanOrEqual(0.9999);
    });
    console.log(`minilm.test.ts: worst cosine to sentence-transformers ${worst.toFixed(9)} (1 - cos = ${(1 - worst).toExponential(1)}), max |difference| ${maxAbs.toExponential(2)} over ${within.length} sentences`);
  });

  it('a text past max_seq_length: transformers.js truncation drops [SEP] (known difference), so it is only close', async () => {
    // sentence-transformers (Python tokenizers) cuts the text to 254 tokens and keeps [CLS] ... [SEP];
    // transformers.js cuts the 256 ids after adding them, so the last id is a word piece, not [SEP].
    const tok = (await loadTokenizer(MODEL)).hf;
    for (const i of fixture.over_length) {
      const ids = tok(fixture.sentences[i]!, { truncation: true, max_length: fixture.max_seq_length }).input_ids.tolist()[0].map(Number);
      const want = fixture.input_ids[i]!;
      expect(ids.length).toBe(want.length);
      expect(ids.slice(0, -1)).toEqual(want.slice(0, -1));
      expect(want.at(-1)).toBe(102); // [SEP]
      expect(ids.at(-1)).not.toBe(102);
      const { flat, dim } = await embedder.embed([fixture.sentences[i]!], 'document');
      const r = cosine(flat, 0, reference, i * dim, dim);
      expect(r.cos).toBeGreaterThan(0.995);
      console.log(`minilm.test.ts: over-length text (${want.length} tokens after truncation): cosine ${r.cos.toFixed(6)} (transformers.js drops [SEP] when truncating)`);
    }
  });

  it('ranks a query the way the reference embeddings do', async () => {
    const { flat, dim } = await embedder.embed(['What is the capital of France?'], 'query');
    const score = (v: ArrayLike<number>, s: number) => { let d = 0; for (let j = 0; j < dim; j++) d += v[j]! * reference[s * dim + j]!; return d; };
    const order = [...within].sort((a, b) => score(flat, b) - score(flat, a));
    expect(fixture.sentences[order[0]!]).toBe('Paris is the capital of France.');
  });
});
