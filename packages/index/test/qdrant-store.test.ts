import { randomBytes } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexSection } from '@ragrpo/config';
import {
  EmbeddedStore, QdrantStore, chooseStore, isTransient, openStore, pointIdFor, withRetry,
  type SearchHit, type StorePoint,
} from '../src/index.ts';
import { bm25, hashedEmbedding, wineChunks } from './fixtures.ts';

const QDRANT_URL = process.env.QDRANT_URL;

describe('choosing the store', () => {
  const cfg = (over: Record<string, unknown> = {}) => IndexSection.parse(over);

  it("'auto' is the embedded store unless a Qdrant URL is configured", () => {
    expect(chooseStore(cfg(), 'wine', {})).toEqual({ kind: 'embedded' });
    expect(chooseStore(cfg(), 'wine', { QDRANT_URL: 'http://q:6333', QDRANT_API_KEY: 'k' }))
      .toEqual({ kind: 'qdrant', url: 'http://q:6333', collection: 'ragrpo-wine', apiKey: 'k' });
    expect(chooseStore(cfg({ qdrant: { url: 'http://cfg:6333', collection: 'c', api_key_env: 'MY_KEY' } }), 'wine', { QDRANT_URL: 'http://env:6333', MY_KEY: 's' }))
      .toEqual({ kind: 'qdrant', url: 'http://cfg:6333', collection: 'c', apiKey: 's' });
    expect(chooseStore(cfg({ store: 'embedded' }), 'wine', { QDRANT_URL: 'http://q:6333' })).toEqual({ kind: 'embedded' });
  });

  it("'qdrant' without a URL says where to set one", () => {
    expect(() => chooseStore(cfg({ store: 'qdrant' }), 'wine', {})).toThrow("index.store is 'qdrant' but no Qdrant URL is set: set index.qdrant.url or QDRANT_URL, or use index.store: embedded");
  });
});

describe('Qdrant plumbing', () => {
  it('point ids are UUIDs derived from the chunk id', () => {
    // expected value from Python: hashlib.sha256(b'wine-0').digest()[:16] with version 8 / RFC variant bits
    expect(pointIdFor('wine-0')).toBe('8a312621-ccf7-84ad-916e-7ab1631ef4b6');
    expect(pointIdFor('wine-0')).toBe(pointIdFor('wine-0'));
    expect(pointIdFor('wine-1')).not.toBe(pointIdFor('wine-0'));
  });

  it('retries network errors, timeouts, 5xx and 429 with back-off, and nothing else', async () => {
    expect(isTransient(new TypeError('fetch failed'))).toBe(true);
    expect(isTransient(Object.assign(new Error('Service Unavailable'), { status: 503 }))).toBe(true);
    expect(isTransient(Object.assign(new Error('Too Many Requests'), { status: 429 }))).toBe(true);
    expect(isTransient(Object.assign(new Error('timeout'), { name: 'QdrantClientTimeoutError' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('Bad Request'), { status: 400 }))).toBe(false);
    expect(isTransient(new Error('Unexpected Response: 502 (Bad Gateway)'))).toBe(true);

    const delays: number[] = [];
    let calls = 0;
    const result = await withRetry(async () => {
      if (++calls < 3) throw new TypeError('fetch failed');
      return 'ok';
    }, { retries: 4, baseDelayMs: 100, what: 'upsert', isTransient, sleep: async (ms) => { delays.push(ms); } });
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(75);
    expect(delays[0]).toBeLessThanOrEqual(125);
    expect(delays[1]).toBeGreaterThanOrEqual(150); // doubled
    expect(delays[1]).toBeLessThanOrEqual(250);

    calls = 0;
    await expect(withRetry(async () => { calls++; throw Object.assign(new Error('Bad Request'), { status: 400 }); },
      { retries: 4, baseDelayMs: 1, what: 'upsert', isTransient })).rejects.toThrow('Bad Request');
    expect(calls).toBe(1);
    await expect(withRetry(async () => { throw new TypeError('fetch failed'); },
      { retries: 2, baseDelayMs: 1, what: 'Qdrant upsert', isTransient, sleep: () => Promise.resolve() }))
      .rejects.toThrow('Qdrant upsert: still failing after 3 attempts (fetch failed)');
  });

  it('an unreachable Qdrant fails at once with one clear line', async () => {
    const started = performance.now();
    const cfg = IndexSection.parse({ qdrant: { url: 'http://127.0.0.1:9', timeout_ms: 1500 } });
    const choice = chooseStore(cfg, 'wine', {});
    const err = await openStore(choice, cfg, '/unused').then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/^cannot reach Qdrant at http:\/\/127\.0\.0\.1:9 \(.+\): start it or unset QDRANT_URL \/ index\.qdrant\.url to use the embedded store$/);
    expect(err?.message.split('\n')).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

if (!QDRANT_URL) console.warn('[index] Qdrant integration test skipped: set QDRANT_URL (e.g. http://localhost:6333) to run it against a live Qdrant');

describe.skipIf(!QDRANT_URL)('QdrantStore against a live Qdrant (QDRANT_URL)', () => {
  const chunks = wineChunks(300);
  const { docVectors, query } = bm25(chunks.map((c) => c.text));
  const points: StorePoint[] = chunks.map((c, i) => ({
    payload: { chunk_id: c.chunk_id, text: c.text, doc_id: c.doc_id, source: 'wine.csv', metadata: c.metadata },
    dense: hashedEmbedding(c.text), sparse: docVectors[i],
  }));
  const questions = ['crisp dry riesling with lime', 'cabernet with firm tannins and black currant', 'oregon pinot noir cherry', 'sweet dessert wine honey'];
  const qDense = questions.map((q) => hashedEmbedding(q));
  const qSparse = questions.map(query);
  const embedded = new EmbeddedStore();
  let qdrant: QdrantStore;

  beforeAll(async () => {
    qdrant = await QdrantStore.connect({
      url: QDRANT_URL!, collection: `ragrpo-test-${randomBytes(4).toString('hex')}`, apiKey: process.env.QDRANT_API_KEY,
      timeoutMs: 30_000, batchSize: 64, retries: 2,
    });
    for (const s of [embedded, qdrant]) {
      await s.reset({ denseDim: 48, sparse: true });
      await s.upsert(points);
    }
  });
  afterAll(async () => { await qdrant?.drop(); });

  /** Same chunks in the same order, except that chunks with (nearly) equal scores may swap. */
  function expectSameHits(got: SearchHit[][], want: SearchHit[][], tol: number) {
    expect(got.map((h) => h.length)).toEqual(want.map((h) => h.length));
    got.forEach((hits, q) => hits.forEach((h, j) => {
      expect(h.score).toBeCloseTo(want[q][j].score, tol);
      const tiedWith = want[q].filter((w) => Math.abs(w.score - h.score) < 10 ** -tol).map((w) => w.chunk_id);
      expect(tiedWith).toContain(h.chunk_id);
    }));
  }

  it('holds every point', async () => {
    expect(await qdrant.count()).toBe(300);
  });

  it('dense search agrees with the embedded store', async () => {
    expectSameHits(await qdrant.searchDense(qDense, 10), await embedded.searchDense(qDense, 10), 4);
  });

  it('sparse (BM25) search agrees with the embedded store', async () => {
    expectSameHits(await qdrant.searchSparse(qSparse, 10), await embedded.searchSparse(qSparse, 10), 3);
  });

  it('hybrid RRF search agrees with the embedded store, scores included', async () => {
    const opts = { prefetch: 50, rrfK: 60 };
    expectSameHits(await qdrant.searchHybrid(qDense, qSparse, 10, opts), await embedded.searchHybrid(qDense, qSparse, 10, opts), 6);
  });

  it('recreates the collection on reset', async () => {
    await qdrant.reset({ denseDim: 48, sparse: true });
    expect(await qdrant.count()).toBe(0);
    await qdrant.upsert(points.slice(0, 10));
    expect(await qdrant.count()).toBe(10);
  });
});

describe.skipIf(!QDRANT_URL)('QdrantStore distributed-mode settings against a live Qdrant (QDRANT_URL)', () => {
  const points: StorePoint[] = wineChunks(30).map((c) => ({
    payload: { chunk_id: c.chunk_id, text: c.text, doc_id: c.doc_id, source: 'wine.csv', metadata: c.metadata },
    dense: hashedEmbedding(c.text),
  }));
  let client: QdrantClient;
  beforeAll(() => { client = new QdrantClient({ url: QDRANT_URL, apiKey: process.env.QDRANT_API_KEY, checkCompatibility: false }); });
  const names: string[] = [];
  const connect = (collection: string, collectionSettings: Record<string, unknown>) => QdrantStore.connect({
    url: QDRANT_URL!, collection, apiKey: process.env.QDRANT_API_KEY, timeoutMs: 30_000, batchSize: 16, retries: 2, collectionSettings,
  });
  const fresh = () => { const n = `ragrpo-test-${randomBytes(4).toString('hex')}`; names.push(n); return n; };
  afterAll(async () => { for (const n of names) await client?.deleteCollection(n).catch(() => undefined); });

  it('creates the collection with the settings, and reports a different one instead of replacing it', async () => {
    const name = fresh();
    const settings = { shard_number: 2, replication_factor: 1, write_consistency_factor: 1, on_disk: true, on_disk_payload: false };
    const store = await connect(name, settings);
    await store.reset({ denseDim: 48, sparse: false });
    await store.upsert(points);
    const params = (await client.getCollection(name)).config.params;
    expect(params).toMatchObject({ shard_number: 2, replication_factor: 1, write_consistency_factor: 1, on_disk_payload: false, vectors: { dense: { size: 48, on_disk: true } } });
    await (await connect(name, settings)).reset({ denseDim: 48, sparse: false }); // same settings: recreated
    expect(await store.count()).toBe(0);
    await store.upsert(points);
    const other = await connect(name, { ...settings, shard_number: 3, on_disk_payload: true });
    await expect(other.reset({ denseDim: 48, sparse: false })).rejects.toThrow(/shard_number is 2, wanted 3 \(index\.qdrant\.shard_number\); on_disk_payload is false, wanted true/);
    expect(await store.count()).toBe(30); // left alone
  });

  it('shard_key: two tenants share one custom-sharded collection; each run replaces only its own points', async () => {
    const name = fresh();
    const a = await connect(name, { shard_key: 'tenant-a', shard_number: 1 });
    const b = await connect(name, { shard_key: 'tenant-b', shard_number: 1 });
    await a.reset({ denseDim: 48, sparse: false });
    await b.reset({ denseDim: 48, sparse: false });
    expect((await client.getCollection(name)).config.params.sharding_method).toBe('custom');
    await a.upsert(points.slice(0, 20));
    await b.upsert(points.slice(20));
    expect([await a.count(), await b.count()]).toEqual([20, 10]);
    const [hits] = await b.searchDense([points[25].dense!], 30);
    expect(hits.length).toBe(10);
    expect(hits[0].chunk_id).toBe(points[25].payload.chunk_id);
    await a.reset({ denseDim: 48, sparse: false });
    expect([await a.count(), await b.count()]).toEqual([0, 10]);
    await a.drop();
    expect(await b.count()).toBe(10);
  });
});

if (!QDRANT_URL) console.warn('[index] Qdrant distributed-mode test skipped: set QDRANT_URL to run it against a live Qdrant (the request bodies are checked without one: qdrant-requests.test.ts)');
