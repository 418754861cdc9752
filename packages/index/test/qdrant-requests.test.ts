import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IndexSection } from '@ragrpo/config';
import { QdrantStore, chooseStore, openStore, pointIdFor, type StorePoint } from '../src/index.ts';

// What QdrantStore sends over the wire, checked against a recording HTTP server that answers the way
// Qdrant's REST API does (bodies wrapped in { result, status, time }). The search semantics against a
// real Qdrant are covered by the QDRANT_URL integration test in qdrant-store.test.ts.

interface Recorded { method: string; url: string; body: unknown }

let server: Server;
let url: string;
const requests: Recorded[] = [];
/** Responses to hand out before the default one, per "METHOD path" (e.g. a 503 to force a retry). */
const scripted = new Map<string, { status: number; body: unknown }[]>();
let queryAnswer: unknown = [];
/** What the fake server says about the collection: whether it exists, its `config.params`, its shard keys. */
let collectionExists = true;
let collectionParams: Record<string, unknown> = {};
let shardKeys: (string | number)[] = [];
/** A one-node collection as Qdrant 1.16 reports one made by the store with no distributed options. */
const singleNodeParams = (over: Record<string, unknown> = {}) => ({
  vectors: { dense: { size: 3, distance: 'Cosine' } }, shard_number: 1, replication_factor: 1, write_consistency_factor: 1,
  on_disk_payload: true, sparse_vectors: { bm25: { modifier: 'none' } }, ...over,
});
beforeEach(() => {
  collectionExists = true;
  collectionParams = singleNodeParams();
  shardKeys = [];
  scripted.clear();
});

const body = (req: IncomingMessage) => new Promise<unknown>((resolve) => {
  let text = '';
  req.on('data', (c) => { text += c; });
  req.on('end', () => resolve(text ? JSON.parse(text) : undefined));
});

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const b = await body(req);
    const pathOnly = (req.url ?? '').split('?')[0];
    requests.push({ method: req.method!, url: req.url!, body: b });
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    const next = scripted.get(`${req.method} ${pathOnly}`)?.shift();
    if (next) return send(next.status, next.body);
    const ok = (result: unknown) => send(200, { result, status: 'ok', time: 0.001 });
    if (pathOnly === '/') return send(200, { title: 'qdrant - vector search engine', version: '1.16.2' });
    if (pathOnly.endsWith('/exists')) return ok({ exists: collectionExists });
    if (pathOnly.endsWith('/points/query/batch')) return ok(queryAnswer);
    if (pathOnly.endsWith('/points/count')) return ok({ count: 5 });
    if (pathOnly.endsWith('/points') || pathOnly.endsWith('/points/delete')) return ok({ operation_id: 1, status: 'completed' });
    if (pathOnly.endsWith('/cluster')) {
      return ok({ peer_id: 1, shard_count: shardKeys.length, remote_shards: [], shard_transfers: [],
        local_shards: shardKeys.map((k, i) => ({ shard_id: i, shard_key: k, points_count: 0, state: 'Active' })) });
    }
    if (req.method === 'GET' && /^\/collections\/[^/]+$/.test(pathOnly)) {
      return ok({ status: 'green', optimizer_status: 'ok', points_count: 0, segments_count: 1, payload_schema: {},
        config: { params: collectionParams, hnsw_config: {}, optimizer_config: {}, wal_config: {} } });
    }
    return ok(true);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const point = (i: number): StorePoint => ({
  payload: { chunk_id: `c${i}`, text: `text ${i}`, doc_id: 'd', source: 's', metadata: '{}' },
  dense: Float32Array.from([i, 1, 0]),
  sparse: { indices: Int32Array.from([i, 100]), values: Float32Array.from([0.5, 1.5]) },
});

describe('QdrantStore requests', () => {
  it('recreates the collection with named dense (Cosine) and sparse (bm25, modifier none) vectors', async () => {
    requests.length = 0;
    const store = await QdrantStore.connect({ url, collection: 'ragrpo-t', timeoutMs: 2000, batchSize: 2, retries: 2 });
    await store.reset({ denseDim: 3, sparse: true });
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /', 'GET /collections/ragrpo-t/exists', 'GET /collections/ragrpo-t', 'DELETE /collections/ragrpo-t', 'PUT /collections/ragrpo-t',
    ]);
    expect(requests[4].body).toEqual({ vectors: { dense: { size: 3, distance: 'Cosine' } }, sparse_vectors: { bm25: { modifier: 'none' } } });
  });

  it('upserts in batch_size batches with wait=true, deterministic ids and the payload; retries a 503', async () => {
    const retries: string[] = [];
    const store = await QdrantStore.connect({
      url, collection: 'ragrpo-t', timeoutMs: 2000, batchSize: 2, retries: 2,
      onRetry: (what, attempt) => retries.push(`${what} #${attempt}`),
    });
    await store.reset({ denseDim: 3, sparse: true });
    requests.length = 0;
    scripted.set('PUT /collections/ragrpo-t/points', [{ status: 503, body: { status: { error: 'busy' } } }]);
    await store.upsert([0, 1, 2, 3, 4].map(point));
    const puts = requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(4); // 3 batches, the first one twice
    expect(puts.every((r) => r.url === '/collections/ragrpo-t/points?wait=true')).toBe(true);
    expect(retries).toEqual(['upsert points 0..1 #1']);
    const sent = puts.slice(1).flatMap((r) => (r.body as { points: { id: string; vector: unknown; payload: unknown }[] }).points);
    expect(sent.map((p) => p.id)).toEqual([0, 1, 2, 3, 4].map((i) => pointIdFor(`c${i}`)));
    expect(sent[3]).toEqual({
      id: pointIdFor('c3'),
      vector: { dense: [3, 1, 0], bm25: { indices: [3, 100], values: [0.5, 1.5] } },
      payload: { chunk_id: 'c3', text: 'text 3', doc_id: 'd', source: 's', metadata: '{}', row: 3 },
    });
  });

  it('hybrid search sends two prefetches and RRF with k = rrf_k + 1; equal scores come back in row order', async () => {
    const store = await QdrantStore.connect({ url, collection: 'ragrpo-t', timeoutMs: 2000, batchSize: 2, retries: 0 });
    await store.reset({ denseDim: 3, sparse: true });
    requests.length = 0;
    queryAnswer = [{ points: [
      { id: pointIdFor('c4'), version: 1, score: 0.5, payload: { chunk_id: 'c4', text: 'text 4', row: 4 } },
      { id: pointIdFor('c1'), version: 1, score: 0.5, payload: { chunk_id: 'c1', text: 'text 1', row: 1 } },
      { id: pointIdFor('c2'), version: 1, score: 0.25, payload: { chunk_id: 'c2', text: 'text 2', row: 2 } },
    ] }];
    const [hits] = await store.searchHybrid([Float32Array.from([1, 0, 0])], [{ indices: Int32Array.from([7]), values: Float32Array.from([2]) }], 3, { prefetch: 50, rrfK: 60 });
    expect(hits).toEqual([
      { chunk_id: 'c1', score: 0.5, text: 'text 1' },
      { chunk_id: 'c4', score: 0.5, text: 'text 4' },
      { chunk_id: 'c2', score: 0.25, text: 'text 2' },
    ]);
    expect(requests).toHaveLength(1);
    expect(requests[0].url).toBe('/collections/ragrpo-t/points/query/batch');
    expect(requests[0].body).toEqual({ searches: [{
      prefetch: [
        { query: [1, 0, 0], using: 'dense', limit: 50 },
        { query: { indices: [7], values: [2] }, using: 'bm25', limit: 50 },
      ],
      query: { rrf: { k: 61 } },
      limit: 3,
      with_payload: ['chunk_id', 'text', 'row'],
    }] });
    await expect(store.searchHybrid([Float32Array.from([1, 0, 0])], [{ indices: Int32Array.from([7]), values: Float32Array.from([2]) }], 3, { prefetch: 50, rrfK: 60.5 }))
      .rejects.toThrow(/Qdrant takes an integer RRF constant/);
  });

  it('a rejected request is not retried and its error carries Qdrant\'s message', async () => {
    const store = await QdrantStore.connect({ url, collection: 'ragrpo-t', timeoutMs: 2000, batchSize: 2, retries: 3 });
    await store.reset({ denseDim: 3, sparse: true });
    requests.length = 0;
    scripted.set('POST /collections/ragrpo-t/points/query/batch', [{ status: 400, body: { status: { error: 'Wrong input: Vector dimension error: expected dim: 3, got 2' } } }]);
    await expect(store.searchDense([Float32Array.from([1, 0])], 3)).rejects.toThrow(
      /^Qdrant at http:\/\/127\.0\.0\.1:\d+, collection ragrpo-t: query 0\.\.0 failed: HTTP 400: Wrong input: Vector dimension error: expected dim: 3, got 2$/);
    expect(requests).toHaveLength(1);
  });
});

describe('QdrantStore in distributed mode (index.qdrant.shard_number, …, shard_key)', () => {
  /** A store opened the way the index stage opens it: index.qdrant options -> openStore. */
  const open = (qdrant: Record<string, unknown>) => {
    const cfg = IndexSection.parse({ store: 'qdrant', qdrant: { url, collection: 'ragrpo-d', timeout_ms: 2000, batch_size: 2, retries: 0, ...qdrant } });
    return openStore(chooseStore(cfg, 'd', {}), cfg, '/unused') as Promise<QdrantStore>;
  };
  const cluster = { shard_number: 4, replication_factor: 2, write_consistency_factor: 2, on_disk: true, on_disk_payload: false };
  const calls = () => requests.map((r) => `${r.method} ${r.url}`);

  it('creates the collection with each setting where Qdrant\'s create-collection API defines it', async () => {
    collectionExists = false;
    const store = await open(cluster);
    requests.length = 0;
    await store.reset({ denseDim: 3, sparse: true });
    expect(calls()).toEqual(['GET /collections/ragrpo-d/exists', 'PUT /collections/ragrpo-d']);
    expect(requests[1].body).toEqual({
      vectors: { dense: { size: 3, distance: 'Cosine', on_disk: true } },
      sparse_vectors: { bm25: { modifier: 'none', index: { on_disk: true } } },
      shard_number: 4, replication_factor: 2, write_consistency_factor: 2, on_disk_payload: false,
    });
  });

  it('an existing collection with the same settings is recreated; unset options are not compared', async () => {
    collectionParams = singleNodeParams({
      vectors: { dense: { size: 384, distance: 'Cosine', on_disk: true } }, sparse_vectors: { bm25: { index: { on_disk: true } } },
      shard_number: 4, replication_factor: 2, write_consistency_factor: 2, on_disk_payload: false,
    });
    const store = await open(cluster);
    requests.length = 0;
    await store.reset({ denseDim: 3, sparse: true }); // a new dense size: the collection is this run's own, recreated
    expect(calls()).toEqual(['GET /collections/ragrpo-d/exists', 'GET /collections/ragrpo-d', 'DELETE /collections/ragrpo-d', 'PUT /collections/ragrpo-d']);

    collectionParams = singleNodeParams({ shard_number: 3, replication_factor: 2 }); // a 3-node cluster's defaults
    const plain = await open({});
    requests.length = 0;
    await plain.reset({ denseDim: 3, sparse: true });
    expect(calls()).toEqual(['GET /collections/ragrpo-d/exists', 'GET /collections/ragrpo-d', 'DELETE /collections/ragrpo-d', 'PUT /collections/ragrpo-d']);
  });

  it('an existing collection whose settings differ is one error naming each setting, and is left alone', async () => {
    collectionParams = singleNodeParams({ shard_number: 1, replication_factor: 2, write_consistency_factor: 1 }); // on_disk_payload: true, vectors in RAM
    const store = await open(cluster);
    requests.length = 0;
    const err = await store.reset({ denseDim: 3, sparse: true }).then(() => null, (e: Error) => e);
    expect(err?.message).toBe(`Qdrant at ${url}: collection ragrpo-d exists with other settings than this run asks for: `
      + 'shard_number is 1, wanted 4 (index.qdrant.shard_number); '
      + 'write_consistency_factor is 1, wanted 2 (index.qdrant.write_consistency_factor); '
      + 'on_disk_payload is true, wanted false (index.qdrant.on_disk_payload); '
      + 'vectors.dense.on_disk is false, wanted true (index.qdrant.on_disk); '
      + 'sparse_vectors.bm25.index.on_disk is false, wanted true (index.qdrant.on_disk). '
      + 'It is neither reused nor replaced: set index.qdrant to match it, or delete the collection (DELETE /collections/ragrpo-d) to have it created with these settings');
    expect(calls()).toEqual(['GET /collections/ragrpo-d/exists', 'GET /collections/ragrpo-d']); // no DELETE, no PUT

    collectionParams = singleNodeParams({ sharding_method: 'custom' }); // someone's multi-tenant collection
    const plain = await open({});
    await expect(plain.reset({ denseDim: 3, sparse: true })).rejects.toThrow(/: sharding_method is custom, wanted auto \(index\.qdrant\.shard_key is unset\)\. It is neither reused nor replaced/);
  });

  it('shard_key: a custom-sharded collection and the shard key are created; points, queries and counts carry the key', async () => {
    collectionExists = false;
    const store = await open({ shard_key: 'tenant-a', shard_number: 2 });
    expect(store.location).toBe(`${url} collection ragrpo-d shard key "tenant-a"`);
    requests.length = 0;
    await store.reset({ denseDim: 3, sparse: true });
    expect(calls()).toEqual(['GET /collections/ragrpo-d/exists', 'PUT /collections/ragrpo-d', 'PUT /collections/ragrpo-d/shards']);
    expect(requests[1].body).toEqual({
      vectors: { dense: { size: 3, distance: 'Cosine' } }, sparse_vectors: { bm25: { modifier: 'none' } }, sharding_method: 'custom', shard_number: 2,
    });
    expect(requests[2].body).toEqual({ shard_key: 'tenant-a' });

    requests.length = 0;
    queryAnswer = [{ points: [] }];
    await store.upsert([0, 1].map(point));
    await store.searchDense([Float32Array.from([1, 0, 0])], 3);
    await store.searchSparse([{ indices: Int32Array.from([7]), values: Float32Array.from([2]) }], 3);
    await store.searchHybrid([Float32Array.from([1, 0, 0])], [{ indices: Int32Array.from([7]), values: Float32Array.from([2]) }], 3, { prefetch: 50, rrfK: 60 });
    await store.count();
    expect(calls()).toEqual([
      'PUT /collections/ragrpo-d/points?wait=true', 'POST /collections/ragrpo-d/points/query/batch', 'POST /collections/ragrpo-d/points/query/batch',
      'POST /collections/ragrpo-d/points/query/batch', 'POST /collections/ragrpo-d/points/count',
    ]);
    expect((requests[0].body as { shard_key: unknown; points: unknown[] })).toMatchObject({ shard_key: 'tenant-a', points: [{ id: pointIdFor('c0') }, { id: pointIdFor('c1') }] });
    for (const r of requests.slice(1, 4)) expect((r.body as { searches: { shard_key: unknown }[] }).searches.map((q) => q.shard_key)).toEqual(['tenant-a']);
    expect(requests[4].body).toEqual({ exact: true, shard_key: 'tenant-a' });

    requests.length = 0;
    await store.drop(); // only this tenant's shard key: the collection is shared
    expect(calls()).toEqual(['POST /collections/ragrpo-d/shards/delete']);
    expect(requests[0].body).toEqual({ shard_key: 'tenant-a' });
  });

  it('shard_key: an existing shared collection is kept; the run replaces its own shard key\'s points or creates the key', async () => {
    collectionParams = singleNodeParams({ sharding_method: 'custom', shard_number: 2 });
    shardKeys = ['tenant-b', 7];
    const a = await open({ shard_key: 'tenant-a', shard_number: 2 });
    requests.length = 0;
    await a.reset({ denseDim: 3, sparse: true });
    expect(calls()).toEqual(['GET /collections/ragrpo-d/exists', 'GET /collections/ragrpo-d', 'GET /collections/ragrpo-d/cluster', 'PUT /collections/ragrpo-d/shards']);

    shardKeys = ['tenant-b', 7, 'tenant-a'];
    requests.length = 0;
    await a.reset({ denseDim: 3, sparse: true });
    expect(calls()).toEqual(['GET /collections/ragrpo-d/exists', 'GET /collections/ragrpo-d', 'GET /collections/ragrpo-d/cluster', 'POST /collections/ragrpo-d/points/delete?wait=true']);
    expect(requests[3].body).toEqual({ filter: {}, shard_key: 'tenant-a' });

    const numeric = await open({ shard_key: 7 }); // a number is its own key (7, not "7")
    requests.length = 0;
    await numeric.reset({ denseDim: 3, sparse: true });
    expect(requests.at(-1)).toMatchObject({ url: '/collections/ragrpo-d/points/delete?wait=true', body: { filter: {}, shard_key: 7 } });
  });

  it('shard_key: a collection another run created meanwhile is checked and joined, not an error', async () => {
    scripted.set('GET /collections/ragrpo-d/exists', [{ status: 200, body: { result: { exists: false }, status: 'ok', time: 0 } }]);
    scripted.set('PUT /collections/ragrpo-d', [{ status: 409, body: { status: { error: 'Wrong input: Collection `ragrpo-d` already exists!' } } }]);
    collectionParams = singleNodeParams({ sharding_method: 'custom' });
    const a = await open({ shard_key: 'tenant-a' });
    requests.length = 0;
    await a.reset({ denseDim: 3, sparse: true });
    expect(calls()).toEqual([
      'GET /collections/ragrpo-d/exists', 'PUT /collections/ragrpo-d', 'GET /collections/ragrpo-d/exists', 'GET /collections/ragrpo-d',
      'GET /collections/ragrpo-d/cluster', 'PUT /collections/ragrpo-d/shards',
    ]);
  });

  it('shard_key: a shared collection must also hold the vectors this run writes', async () => {
    collectionParams = singleNodeParams({ sharding_method: 'custom', vectors: { dense: { size: 384, distance: 'Cosine' } }, sparse_vectors: { bm25: { modifier: 'idf' } } });
    const a = await open({ shard_key: 'tenant-a' });
    await expect(a.reset({ denseDim: 3, sparse: true })).rejects.toThrow(': vectors.dense is size 384 Cosine, wanted size 3 Cosine (the embed stage\'s dense vectors); '
      + 'sparse_vectors.bm25.modifier is idf, wanted none (the query side carries the IDF). It is neither reused nor replaced: set index.qdrant to match it, '
      + 'or use another index.qdrant.collection (it is shared through shard keys: the store never deletes it)');
    collectionParams = singleNodeParams({ sharding_method: 'custom', vectors: {} });
    await expect(a.reset({ denseDim: 3, sparse: false })).rejects.toThrow(': vectors.dense is missing, wanted size 3 Cosine');
    await a.reset({ denseDim: null, sparse: true }); // a sparse-only run fits: points need not carry every named vector
  });

  it('the options are checked when the pipeline file is read', () => {
    const parse = (qdrant: Record<string, unknown>) => IndexSection.safeParse({ qdrant });
    expect(parse({ write_consistency_factor: 2 }).error?.issues[0]).toMatchObject({
      path: ['qdrant', 'write_consistency_factor'], message: 'write_consistency_factor 2 is more than the 1 replica of each shard (replication_factor unset: 1): every write would fail',
    });
    expect(parse({ write_consistency_factor: 2, replication_factor: 3 }).success).toBe(true);
    for (const bad of [{ shard_number: 0 }, { replication_factor: 1.5 }, { on_disk: 'yes' }, { shard_key: '' }, { shard_key: -1 }, { shards: 2 }]) {
      expect(parse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(IndexSection.parse({ qdrant: { shard_key: 'tenant-a' } }).qdrant.shard_key).toBe('tenant-a');
  });
});
