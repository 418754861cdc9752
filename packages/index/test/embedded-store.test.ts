import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore, loadEmbeddedStore, saveEmbeddedStore, type StorePoint } from '../src/index.ts';
import { bm25, cosine, hashedEmbedding, sparseDot, wineChunks } from './fixtures.ts';

const QUESTIONS = [
  'crisp dry riesling with lime and mineral notes',
  'full bodied cabernet sauvignon with black currant and firm tannins',
  'pinot noir from oregon with cherry and earthy notes',
  'sweet late harvest dessert wine with honey and apricot',
  'sparkling wine with fine bubbles and toasty brioche',
  'oaky california chardonnay with butter and vanilla',
];

/** 300 wine reviews with BM25 and stand-in dense vectors: real text, real term statistics. */
function wineFixture() {
  const chunks = wineChunks(300);
  const { docVectors, query } = bm25(chunks.map((c) => c.text));
  const points: StorePoint[] = chunks.map((c, i) => ({
    payload: { chunk_id: c.chunk_id, text: c.text, doc_id: c.doc_id, source: 'wine.csv', metadata: c.metadata },
    dense: hashedEmbedding(c.text),
    sparse: docVectors[i],
  }));
  return { chunks, points, qDense: QUESTIONS.map((q) => hashedEmbedding(q)), qSparse: QUESTIONS.map(query) };
}

/** Oracle ranking: every score computed directly, sorted with ties to the lower row. */
function rank(scores: number[]): number[] {
  return scores.map((s, r) => ({ s, r })).sort((a, b) => b.s - a.s || a.r - b.r).map((x) => x.r);
}

describe('EmbeddedStore on wine reviews', () => {
  const fx = wineFixture();
  const store = new EmbeddedStore();
  beforeAll(async () => {
    await store.reset({ denseDim: 48, sparse: true });
    // two upsert batches, as the stage does
    await store.upsert(fx.points.slice(0, 128));
    await store.upsert(fx.points.slice(128));
  });

  it('dense search ranks by cosine similarity', async () => {
    const hits = await store.searchDense(fx.qDense, 5);
    fx.qDense.forEach((q, i) => {
      const want = rank(fx.points.map((p) => cosine(q, p.dense!))).slice(0, 5);
      expect(hits[i].map((h) => h.chunk_id)).toEqual(want.map((r) => fx.chunks[r].chunk_id));
      hits[i].forEach((h, j) => expect(h.score).toBeCloseTo(cosine(q, fx.points[want[j]].dense!), 5));
    });
  });

  it('sparse search scores are BM25 dot products and the hits name matching wines', async () => {
    const hits = await store.searchSparse(fx.qSparse, 5);
    fx.qSparse.forEach((q, i) => {
      const scores = fx.points.map((p) => sparseDot(q, p.sparse!));
      const want = rank(scores).slice(0, 5);
      expect(hits[i].map((h) => h.chunk_id)).toEqual(want.map((r) => fx.chunks[r].chunk_id));
      hits[i].forEach((h, j) => expect(h.score).toBeCloseTo(scores[want[j]], 4));
    });
    expect(hits[0][0].text.toLowerCase()).toContain('riesling');
    expect(hits[2][0].text.toLowerCase()).toContain('pinot noir');
  });

  it('hybrid search is RRF of the dense and sparse candidate lists', async () => {
    const prefetch = 50, rrfK = 60, k = 8;
    const hits = await store.searchHybrid(fx.qDense, fx.qSparse, k, { prefetch, rrfK });
    fx.qDense.forEach((q, i) => {
      const dense = rank(fx.points.map((p) => cosine(q, p.dense!))).slice(0, prefetch);
      const sparseScores = fx.points.map((p) => sparseDot(fx.qSparse[i], p.sparse!));
      // sparse candidates are only chunks sharing a term with the question
      const sparse = rank(sparseScores).filter((r) => fx.points[r].sparse!.indices.some((t) => fx.qSparse[i].indices.includes(t))).slice(0, prefetch);
      const fused = new Map<number, number>();
      [dense, sparse].forEach((list) => list.forEach((r, pos) => fused.set(r, (fused.get(r) ?? 0) + 1 / (rrfK + pos + 1))));
      const want = [...fused].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k);
      expect(hits[i].map((h) => h.chunk_id)).toEqual(want.map(([r]) => fx.chunks[r].chunk_id));
      hits[i].forEach((h, j) => expect(h.score).toBeCloseTo(want[j][1], 12));
    });
  });

  it('counts points, and upsert replaces a chunk with the same id', async () => {
    const s = new EmbeddedStore();
    await s.reset({ denseDim: 2, sparse: false });
    const p = (id: string, v: number[]): StorePoint => ({ payload: { chunk_id: id, text: id, doc_id: 'd', source: 's', metadata: '{}' }, dense: Float32Array.from(v) });
    await s.upsert([p('a', [1, 0]), p('b', [0, 1])]);
    await s.upsert([p('a', [0, 3])]);
    expect(await s.count()).toBe(2);
    const [hits] = await s.searchDense([Float32Array.from([0, 1])], 2);
    expect(hits.map((h) => [h.chunk_id, h.score])).toEqual([['a', 1], ['b', 1]]);
  });

  it('refuses points without the vectors of its layout, and searches it does not hold', async () => {
    const s = new EmbeddedStore();
    await s.reset({ denseDim: null, sparse: true });
    await expect(s.upsert([{ payload: fx.points[0].payload }])).rejects.toThrow(/chunk_id wine-0\) has no sparse vector/);
    await expect(s.searchDense([new Float32Array(48)], 3)).rejects.toThrow(/holds no dense vectors/);
    await s.reset({ denseDim: 4, sparse: false });
    await expect(s.upsert([{ payload: fx.points[0].payload, dense: new Float32Array(3) }])).rejects.toThrow(/3-dim vector, the store holds 4-dim/);
    await expect(s.searchSparse([fx.qSparse[0]], 3)).rejects.toThrow(/holds no sparse vectors/);
  });
});

describe('embedded store persistence', () => {
  const fx = wineFixture();
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(path.join(tmpdir(), 'ragrpo-index-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('round-trips: a reloaded store answers every search exactly as the original', async () => {
    const store = new EmbeddedStore();
    await store.reset({ denseDim: 48, sparse: true });
    await store.upsert(fx.points);
    const manifest = await saveEmbeddedStore(store, dir);
    expect(manifest).toMatchObject({ format: 'ragrpo-embedded-store', points: 300, dense_dim: 48, sparse: true });
    expect(JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'))).toEqual(manifest);

    const loaded = await loadEmbeddedStore(dir);
    expect(loaded.location).toBe(dir);
    expect(await loaded.count()).toBe(300);
    expect(await loaded.searchDense(fx.qDense, 7)).toEqual(await store.searchDense(fx.qDense, 7));
    expect(await loaded.searchSparse(fx.qSparse, 7)).toEqual(await store.searchSparse(fx.qSparse, 7));
    const opts = { prefetch: 50, rrfK: 60 };
    expect(await loaded.searchHybrid(fx.qDense, fx.qSparse, 7, opts)).toEqual(await store.searchHybrid(fx.qDense, fx.qSparse, 7, opts));
    expect(loaded.snapshot().payloads[5]).toEqual(fx.points[5].payload);
  });

  it('a folder without a manifest is a clear error', async () => {
    await expect(loadEmbeddedStore(path.join(dir, 'nope'))).rejects.toThrow(/manifest.json: not found: not an embedded store folder/);
  });
});
