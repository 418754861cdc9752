import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QdrantStore, pointIdFor, type StorePoint } from '../src/index.ts';

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
    if (pathOnly.endsWith('/exists')) return ok({ exists: true });
    if (pathOnly.endsWith('/points/query/batch')) return ok(queryAnswer);
    if (pathOnly.endsWith('/points/count')) return ok({ count: 5 });
    if (pathOnly.endsWith('/points')) return ok({ operation_id: 1, status: 'completed' });
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
      'GET /', 'GET /collections/ragrpo-t/exists', 'DELETE /collections/ragrpo-t', 'PUT /collections/ragrpo-t',
    ]);
    expect(requests[3].body).toEqual({ vectors: { dense: { size: 3, distance: 'Cosine' } }, sparse_vectors: { bm25: { modifier: 'none' } } });
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
