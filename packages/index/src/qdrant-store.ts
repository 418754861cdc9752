import { QdrantClient, type Schemas } from '@qdrant/js-client-rest';
import { pointIdFor } from './point-id.ts';
import { collectionDifferences, createCollectionBody, DENSE_VECTOR, shardKeysOf, SPARSE_VECTOR, type QdrantCollectionSettings } from './qdrant-collection.ts';
import { describeError, withRetry } from './retry.ts';
import type { SparseVector } from './sparse-index.ts';
import type { HybridOptions, SearchHit, StoreLayout, StorePoint, VectorStore } from './vector-store.ts';

export { DENSE_VECTOR, SPARSE_VECTOR, type QdrantCollectionSettings };

export interface QdrantStoreOptions {
  url: string;
  collection: string;
  apiKey?: string;
  timeoutMs: number;
  /** Points per upsert request. */
  batchSize: number;
  /** Retries of a transient failure (network, timeout, 5xx, 429) per request. */
  retries: number;
  /** Queries per query-batch request. */
  queryBatchSize?: number;
  onRetry?(what: string, attempt: number, delayMs: number, err: unknown): void;
  /** Distributed mode (index.qdrant.shard_number, …, shard_key); unset fields are Qdrant's defaults. */
  collectionSettings?: QdrantCollectionSettings;
}

type QueryRequest = Schemas['QueryRequest'];
type PointStruct = Schemas['PointStruct'];

/**
 * A Qdrant collection as a VectorStore: named dense vector `dense` (Cosine) and sparse vector
 * `bm25` (modifier none: the query side already carries IDF, so Qdrant's score is the BM25 dot
 * product). Point ids are UUIDs derived from chunk ids; the payload carries the chunk fields and
 * its row so ties can be broken the same way as in the embedded store.
 *
 * Distributed mode: `collectionSettings` go into the create-collection request (shard_number, replication_factor,
 * write_consistency_factor, on_disk_payload, on_disk on the vectors). An existing collection is compared with them
 * first (GET /collections/{name}) and any difference is one error naming each setting: it is neither reused nor
 * replaced. Without a shard key the collection is this run's own and is recreated on reset (as on one node). With
 * a shard key the collection is shared (`sharding_method: custom`, one shard key per tenant): reset keeps it (its
 * vectors must fit this run's), creates the shard key when missing or else deletes that key's points, and every
 * upsert, query and count carries the shard key.
 */
export class QdrantStore implements VectorStore {
  readonly kind = 'qdrant' as const;
  readonly location: string;
  private readonly client: QdrantClient;
  private serverVersion: number[] = [];
  private layout: StoreLayout | null = null;
  private nextRow = 0;

  private readonly settings: QdrantCollectionSettings;
  /** The shard key selector every point request carries (custom sharding), else nothing. */
  private readonly shardKey: { shard_key?: string | number };

  private constructor(private readonly opts: QdrantStoreOptions) {
    this.settings = opts.collectionSettings ?? {};
    this.shardKey = this.settings.shard_key !== undefined ? { shard_key: this.settings.shard_key } : {};
    this.location = `${opts.url} collection ${opts.collection}${this.settings.shard_key !== undefined ? ` shard key ${JSON.stringify(this.settings.shard_key)}` : ''}`;
    this.client = new QdrantClient({
      url: opts.url, apiKey: opts.apiKey, timeout: opts.timeoutMs,
      // We ask for the version ourselves (connect) so an unreachable server gives one clear error,
      // not a background warning.
      checkCompatibility: false,
    });
  }

  /** Connects (one request, no retries: a refused connection is a setup problem, not a blip). */
  static async connect(opts: QdrantStoreOptions): Promise<QdrantStore> {
    const store = new QdrantStore(opts);
    try {
      const info = await store.client.versionInfo();
      store.serverVersion = String(info.version).split('.').map(Number);
    } catch (err) {
      throw new Error(`cannot reach Qdrant at ${opts.url} (${describeError(err)}): start it or unset QDRANT_URL / index.qdrant.url to use the embedded store`);
    }
    return store;
  }

  async reset(layout: StoreLayout): Promise<void> {
    const { collection } = this.opts;
    const key = this.settings.shard_key;
    const shared = key !== undefined;
    const exists = await this.call('check the collection', () => this.client.collectionExists(collection));
    let created = false;
    if (exists.exists) {
      await this.checkExisting(layout, shared);
      if (!shared) await this.call('delete the old collection', () => this.client.deleteCollection(collection));
    }
    if (!exists.exists || !shared) {
      const body = createCollectionBody(layout, this.settings);
      created = await this.call('create the collection', () => this.client.createCollection(collection, body)).then(() => true, async (err: unknown) => {
        // another run sharing the collection may have created it between our check and our create
        if (!shared || !(await this.client.collectionExists(collection).then((r) => r.exists, () => false))) throw err;
        await this.checkExisting(layout, shared);
        return false;
      });
    }
    if (key !== undefined) {
      const keys = created ? [] : shardKeysOf(await this.call('read the shard keys', () => this.client.collectionClusterInfo(collection)));
      if (keys.includes(key)) {
        // this run's points replace the ones an earlier run left under its shard key; other keys are untouched
        await this.call(`delete the points of shard key ${JSON.stringify(key)}`, () => this.client.delete(collection, { wait: true, filter: {}, shard_key: key }));
      } else {
        await this.call(`create shard key ${JSON.stringify(key)}`, () => this.client.createShardKey(collection, { shard_key: key }));
      }
    }
    this.layout = { ...layout };
    this.nextRow = 0;
  }

  /** Throws one error naming every setting in which the existing collection differs from what this store would create. */
  private async checkExisting(layout: StoreLayout, shared: boolean): Promise<void> {
    const { collection } = this.opts;
    const info = await this.call('read the collection', () => this.client.getCollection(collection));
    const diffs = collectionDifferences(info.config?.params, layout, this.settings, shared);
    if (diffs.length === 0) return;
    const fix = shared
      ? 'set index.qdrant to match it, or use another index.qdrant.collection (it is shared through shard keys: the store never deletes it)'
      : `set index.qdrant to match it, or delete the collection (DELETE /collections/${collection}) to have it created with these settings`;
    throw new Error(`Qdrant at ${this.opts.url}: collection ${collection} exists with other settings than this run asks for: ${diffs.join('; ')}. It is neither reused nor replaced: ${fix}`);
  }

  async upsert(points: readonly StorePoint[]): Promise<void> {
    const layout = this.requireLayout();
    for (let at = 0; at < points.length; at += this.opts.batchSize) {
      const batch = points.slice(at, at + this.opts.batchSize).map((p, i): PointStruct => {
        const vector: Record<string, number[] | Schemas['SparseVector']> = {};
        if (layout.denseDim !== null) {
          if (!p.dense || p.dense.length !== layout.denseDim) {
            throw new Error(`upsert: point ${at + i} (chunk_id ${p.payload.chunk_id}) needs a ${layout.denseDim}-dim dense vector, got ${p.dense?.length ?? 'none'}`);
          }
          vector[DENSE_VECTOR] = Array.from(p.dense);
        }
        if (layout.sparse) {
          if (!p.sparse) throw new Error(`upsert: point ${at + i} (chunk_id ${p.payload.chunk_id}) has no sparse vector`);
          vector[SPARSE_VECTOR] = sparseJson(p.sparse);
        }
        return { id: pointIdFor(p.payload.chunk_id), vector, payload: { ...p.payload, row: this.nextRow + at + i } };
      });
      await this.call(`upsert points ${at}..${at + batch.length - 1}`, () =>
        this.client.upsert(this.opts.collection, { wait: true, points: batch, ...this.shardKey }));
    }
    this.nextRow += points.length;
  }

  async searchDense(queries: readonly Float32Array[], k: number): Promise<SearchHit[][]> {
    this.requireVectors('dense');
    return this.queryAll(queries.map((q) => ({ query: Array.from(q), using: DENSE_VECTOR, limit: k, with_payload: PAYLOAD_FIELDS, ...this.shardKey })));
  }

  async searchSparse(queries: readonly SparseVector[], k: number): Promise<SearchHit[][]> {
    this.requireVectors('sparse');
    return this.queryAll(queries.map((q) => ({ query: sparseJson(q), using: SPARSE_VECTOR, limit: k, with_payload: PAYLOAD_FIELDS, ...this.shardKey })));
  }

  async searchHybrid(dense: readonly Float32Array[], sparse: readonly SparseVector[], k: number, opts: HybridOptions): Promise<SearchHit[][]> {
    this.requireVectors('dense');
    this.requireVectors('sparse');
    if (dense.length !== sparse.length) throw new Error(`hybrid search: ${dense.length} dense but ${sparse.length} sparse queries`);
    if (!Number.isInteger(opts.rrfK)) throw new Error(`index.rrf_k: Qdrant takes an integer RRF constant, got ${opts.rrfK}`);
    const [major = 0, minor = 0] = this.serverVersion;
    if (major < 1 || (major === 1 && minor < 16)) {
      throw new Error(`Qdrant ${this.serverVersion.join('.')} at ${this.opts.url} has no RRF constant parameter (needs 1.16 or later): upgrade Qdrant or use the embedded store`);
    }
    return this.queryAll(dense.map((d, i) => ({
      prefetch: [
        { query: Array.from(d), using: DENSE_VECTOR, limit: opts.prefetch },
        { query: sparseJson(sparse[i]), using: SPARSE_VECTOR, limit: opts.prefetch },
      ],
      // Qdrant scores 1 / (k + position) with 0-based positions; k = rrf_k + 1 makes that
      // 1 / (rrf_k + rank) with 1-based ranks, the embedded store's (and the paper's) formula.
      query: { rrf: { k: opts.rrfK + 1 } },
      limit: k,
      with_payload: PAYLOAD_FIELDS,
      ...this.shardKey,
    })));
  }

  async count(): Promise<number> {
    const r = await this.call('count points', () => this.client.count(this.opts.collection, { exact: true, ...this.shardKey }));
    return r.count;
  }

  async close(): Promise<void> {
    // Nothing to release: the REST client keeps no session, and idle keep-alive sockets close themselves.
  }

  /**
   * Deletes the collection (tests and clean-up; a normal run recreates it on reset); with a shard key, only this
   * run's shard key and its points (the collection is shared).
   */
  async drop(): Promise<void> {
    const key = this.settings.shard_key;
    if (key !== undefined) await this.call(`delete shard key ${JSON.stringify(key)}`, () => this.client.deleteShardKey(this.opts.collection, { shard_key: key }));
    else await this.call('delete the collection', () => this.client.deleteCollection(this.opts.collection));
    this.layout = null;
  }

  private async queryAll(requests: QueryRequest[]): Promise<SearchHit[][]> {
    const size = this.opts.queryBatchSize ?? 64;
    const out: SearchHit[][] = [];
    for (let at = 0; at < requests.length; at += size) {
      const searches = requests.slice(at, at + size);
      const responses = await this.call(`query ${at}..${at + searches.length - 1}`, () =>
        this.client.queryBatch(this.opts.collection, { searches }));
      for (const r of responses) out.push(toHits(r.points));
    }
    return out;
  }

  private call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, {
      retries: this.opts.retries, baseDelayMs: 250, what: `Qdrant ${what}`,
      isTransient, retryAfterMs,
      onRetry: (attempt, delay, err) => this.opts.onRetry?.(what, attempt, delay, err),
    }).catch((err: unknown) => {
      throw new Error(`Qdrant at ${this.opts.url}, collection ${this.opts.collection}: ${what} failed: ${qdrantMessage(err)}`, { cause: err });
    });
  }

  private requireLayout(): StoreLayout {
    if (!this.layout) throw new Error('Qdrant store: call reset(layout) before upserting (it creates the collection)');
    return this.layout;
  }

  private requireVectors(kind: 'dense' | 'sparse'): void {
    const layout = this.requireLayout();
    if (kind === 'dense' && layout.denseDim === null) throw new Error('dense search: this collection holds no dense vectors');
    if (kind === 'sparse' && !layout.sparse) throw new Error('sparse search: this collection holds no sparse vectors');
  }
}

const PAYLOAD_FIELDS = ['chunk_id', 'text', 'row'];

function sparseJson(v: SparseVector): { indices: number[]; values: number[] } {
  return { indices: Array.from(v.indices), values: Array.from(v.values) };
}

/** Best first; equal scores ordered by chunk row, as the embedded store does (Qdrant leaves ties unordered). */
function toHits(points: Schemas['ScoredPoint'][]): SearchHit[] {
  return points
    .map((p) => ({ chunk_id: String(p.payload?.chunk_id), text: String(p.payload?.text ?? ''), score: p.score, row: Number(p.payload?.row ?? 0) }))
    .sort((a, b) => (b.score - a.score) || (a.row - b.row))
    .map(({ chunk_id, score, text }) => ({ chunk_id, score, text }));
}

function statusOf(err: unknown): number | undefined {
  const e = err as { status?: number; message?: string };
  if (typeof e?.status === 'number') return e.status;
  const m = /Unexpected Response: (\d{3})/.exec(e?.message ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Network failures, timeouts, 5xx and 429 are worth retrying; 4xx are not. */
export function isTransient(err: unknown): boolean {
  const name = (err as Error)?.name ?? '';
  if (name === 'QdrantClientTimeoutError' || name === 'QdrantClientResourceExhaustedError') return true;
  const status = statusOf(err);
  if (status !== undefined) return status >= 500 || status === 429;
  // fetch() rejects with TypeError('fetch failed') and the socket error as its cause.
  return err instanceof TypeError && /fetch failed/i.test(err.message);
}

function retryAfterMs(err: unknown): number | undefined {
  const s = (err as { retry_after?: number })?.retry_after;
  return typeof s === 'number' && Number.isFinite(s) ? s * 1000 : undefined;
}

/** Qdrant's own error text (`status.error` in the response body) when there is one. */
function qdrantMessage(err: unknown): string {
  const e = err as { status?: number; data?: { status?: { error?: string } } };
  const detail = e?.data?.status?.error;
  if (detail) return `HTTP ${e.status}: ${detail}`;
  return describeError(err);
}
