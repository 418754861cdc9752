import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { env } from '@huggingface/transformers';
import { DenseVectors, readTable, vectorColumn, writeTable } from '@ragrpo/contracts';
import { DataType, FixedSizeList, Precision, type Float } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { denseVectorTable, loadDenseEmbedder, modelPreset, type DenseEmbedder } from '../src/index.ts';
import { buildTinyModel } from './tiny-model.ts';

const TEXTS = [
  'Ripe cherry and firm tannins.',
  'A crisp white wine with green apple, lemon peel and a long mineral finish from the Mosel.',
  'Good value.',
  'Der Wein ist trocken und fruchtig.',
  'Sweet dessert wine with honey',
];

let root: string;
let modelDir: string;
const fetched: string[] = [];
const realFetch = globalThis.fetch;

function norm(v: Float32Array): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'embed-dense-'));
  modelDir = path.join(root, 'models', 'tiny-embedder');
  await buildTinyModel(modelDir, 0, 24);
  // Any network access fails the tests that check nothing is fetched.
  const record = async (url: unknown) => { fetched.push(String(url)); throw new Error(`network access to ${String(url)}`); };
  env.fetch = record;
  globalThis.fetch = record as typeof fetch;
});
afterAll(() => { globalThis.fetch = realFetch; });

describe('dense embedder on the tiny model through transformers.js', () => {
  let embedder: DenseEmbedder;
  beforeAll(async () => {
    embedder = await loadDenseEmbedder({ model: 'models/tiny-embedder', root, batchSize: 2 });
  });
  afterAll(async () => { await embedder.dispose(); });

  it('loads locally with remote models off and gives [n, hidden] unit vectors', async () => {
    expect(env.allowRemoteModels).toBe(false);
    const { flat, dim } = await embedder.embed(TEXTS, 'document');
    expect(dim).toBe(24);
    expect(flat.length).toBe(TEXTS.length * 24);
    for (let i = 0; i < TEXTS.length; i++) expect(norm(flat.subarray(i * dim, (i + 1) * dim))).toBeCloseTo(1, 5);
    // Different texts, different vectors.
    expect(Array.from(flat.subarray(0, dim))).not.toEqual(Array.from(flat.subarray(dim, 2 * dim)));
    expect(fetched).toEqual([]);
  });

  it('gives the same vectors batched (padded) as one by one', async () => {
    const batched = await embedder.embed(TEXTS, 'document');
    const single = await loadDenseEmbedder({ model: modelDir, root, batchSize: 1 });
    const one = await single.embed(TEXTS, 'document');
    await single.dispose();
    expect(one.dim).toBe(batched.dim);
    one.flat.forEach((v, i) => expect(v).toBeCloseTo(batched.flat[i], 5));
  });

  it('puts the query and document prefixes in front of the text', async () => {
    const prefixed = await loadDenseEmbedder({ model: modelDir, root, queryPrefix: 'query: ', documentPrefix: 'passage: ' });
    const q = await prefixed.embed(TEXTS.slice(0, 2), 'query');
    const d = await prefixed.embed(TEXTS.slice(0, 2), 'document');
    const bare = await embedder.embed(TEXTS.slice(0, 2), 'query');
    // The prefix is literally prepended: embedding 'query: <text>' with no prefix gives the same vector.
    const manual = await embedder.embed(TEXTS.slice(0, 2).map((t) => `query: ${t}`), 'query');
    await prefixed.dispose();
    const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
    expect(maxDiff(q.flat, d.flat)).toBeGreaterThan(1e-3);
    expect(maxDiff(q.flat, bare.flat)).toBeGreaterThan(1e-3);
    expect(maxDiff(q.flat, manual.flat)).toBeLessThan(1e-6);
  });

  it('honours pooling and normalize: cls differs from mean, unnormalised vectors are not unit length', async () => {
    const cls = await loadDenseEmbedder({ model: modelDir, root, pooling: 'cls', normalize: false });
    const c = await cls.embed(TEXTS.slice(0, 1), 'document');
    await cls.dispose();
    const m = await embedder.embed(TEXTS.slice(0, 1), 'document');
    // The model ends in a LayerNorm with unit gain: a single token vector has norm sqrt(hidden).
    expect(norm(c.flat)).toBeCloseTo(Math.sqrt(24), 2);
    const cu = c.flat.map((x) => x / norm(c.flat));
    expect(cu.reduce((s, x, i) => s + x * m.flat[i], 0)).toBeLessThan(0.999);
  });

  it('writes FixedSizeList<Float32>[dim] vectors with model, role, dim and normalized metadata', async () => {
    const ids = TEXTS.map((_, i) => `c${i}`);
    const { flat, dim } = await embedder.embed(TEXTS, 'document');
    const table = denseVectorTable(ids, flat, dim, { model: 'models/tiny-embedder', role: 'document', normalized: true, pooling: 'mean', prefix: '' });
    const file = path.join(root, 'chunks.dense.arrow');
    await writeTable(file, DenseVectors, table);
    const back = await readTable(file, DenseVectors);
    const type = back.getChild('vector')?.type as FixedSizeList;
    expect(type).toBeInstanceOf(FixedSizeList);
    expect(type.listSize).toBe(24);
    const item = type.children[0].type;
    expect(DataType.isFloat(item) && (item as Float).precision === Precision.SINGLE).toBe(true);
    const meta = Object.fromEntries(back.schema.metadata);
    expect(meta).toMatchObject({ 'ragrpo.model': 'models/tiny-embedder', 'ragrpo.role': 'document', 'ragrpo.dim': '24', 'ragrpo.normalized': 'true' });
    expect(back.getChild('id')?.toArray()).toEqual(ids);
    expect(Array.from(vectorColumn(back).flat)).toEqual(Array.from(flat));
  });
});

describe('model folder resolution', () => {
  it('fails with one line naming the missing folder and what to set, fetching nothing', async () => {
    const before = fetched.length;
    const err = await loadDenseEmbedder({ model: 'models/no-such-model', root }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg).toContain(path.join(root, 'models', 'no-such-model'));
    expect(msg).toMatch(/tools\/tiny-embedder\/build\.ts/);
    expect(msg).toMatch(/embed\.dense\.allow_remote: true/);
    expect(fetched.length).toBe(before);
  });

  it('looks hub ids up under models_dir and names that folder when it is missing', async () => {
    const err = await loadDenseEmbedder({ model: 'Xenova/all-MiniLM-L6-v2', root }).catch((e: Error) => e);
    expect((err as Error).message).toContain(path.join(root, 'models', 'Xenova', 'all-MiniLM-L6-v2'));
    expect(fetched).toEqual([]);
    // A hub id with a local copy loads from it.
    const local = await loadDenseEmbedder({ model: 'tiny-embedder', root });
    expect((await local.embed(['x'], 'query')).dim).toBe(24);
    await local.dispose();
  });

  it('names the file a model folder lacks for the requested dtype', async () => {
    const err = await loadDenseEmbedder({ model: modelDir, root, dtype: 'q8' }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/has no onnx\/model_quantized\.onnx/);
  });
});

describe('model presets', () => {
  it('knows the e5, bge and sentence-transformers conventions', () => {
    expect(modelPreset('intfloat/multilingual-e5-small')).toEqual({ pooling: 'mean', queryPrefix: 'query: ', documentPrefix: 'passage: ' });
    expect(modelPreset('BAAI/bge-small-en-v1.5')).toMatchObject({ pooling: 'cls', queryPrefix: 'Represent this sentence for searching relevant passages: ', documentPrefix: '' });
    expect(modelPreset('BAAI/bge-m3')).toEqual({ pooling: 'cls', queryPrefix: '', documentPrefix: '' });
    expect(modelPreset('Xenova/all-MiniLM-L6-v2')).toEqual({ pooling: 'mean', queryPrefix: '', documentPrefix: '' });
  });
});
