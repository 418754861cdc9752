import type { Schemas } from '@qdrant/js-client-rest';
import type { StoreLayout } from './vector-store.ts';

export const DENSE_VECTOR = 'dense';
export const SPARSE_VECTOR = 'bm25';

/**
 * Qdrant's distributed-mode collection settings, under the names of `index.qdrant` and of Qdrant's
 * create-collection API. Unset = Qdrant's default: not sent, and not compared with an existing collection.
 */
export interface QdrantCollectionSettings {
  /** Shards (auto sharding), or shards per shard key (custom sharding). */
  shard_number?: number;
  replication_factor?: number;
  write_consistency_factor?: number;
  /** The dense vector's `on_disk` and the sparse vector index's `index.on_disk`. */
  on_disk?: boolean;
  on_disk_payload?: boolean;
  /** Set: the collection uses `sharding_method: custom` and this store works inside this shard key only. */
  shard_key?: string | number;
}

type CreateCollection = Schemas['CreateCollection'];
type CollectionParams = Schemas['CollectionParams'];

/** The create-collection body for this layout and these settings. */
export function createCollectionBody(layout: StoreLayout, s: QdrantCollectionSettings): CreateCollection {
  const onDisk = s.on_disk !== undefined ? { on_disk: s.on_disk } : {};
  return {
    vectors: layout.denseDim !== null ? { [DENSE_VECTOR]: { size: layout.denseDim, distance: 'Cosine', ...onDisk } } : {},
    sparse_vectors: layout.sparse ? { [SPARSE_VECTOR]: { modifier: 'none', ...(s.on_disk !== undefined ? { index: { on_disk: s.on_disk } } : {}) } } : undefined,
    ...(s.shard_key !== undefined ? { sharding_method: 'custom' as const } : {}),
    ...(s.shard_number !== undefined ? { shard_number: s.shard_number } : {}),
    ...(s.replication_factor !== undefined ? { replication_factor: s.replication_factor } : {}),
    ...(s.write_consistency_factor !== undefined ? { write_consistency_factor: s.write_consistency_factor } : {}),
    ...(s.on_disk_payload !== undefined ? { on_disk_payload: s.on_disk_payload } : {}),
  };
}

const show = (v: unknown) => (v === undefined || v === null ? 'unset' : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * How an existing collection (its `config.params` from GET /collections/{name}) differs from what this store would
 * create, one entry per setting, naming the option: the sharding method always, each distributed setting that is set,
 * and (`checkLayout`: a collection shared with other runs, kept rather than recreated) the named vectors the points need.
 * Qdrant's defaults stand in for fields the server leaves out (replication 1, write consistency 1, payload on disk,
 * vectors in RAM).
 */
export function collectionDifferences(
  params: CollectionParams | undefined, layout: StoreLayout, s: QdrantCollectionSettings, checkLayout: boolean,
): string[] {
  const p = params ?? {};
  const out: string[] = [];
  const differ = (name: string, option: string, have: unknown, want: unknown) => {
    if (have !== want) out.push(`${name} is ${show(have)}, wanted ${show(want)} (${option})`);
  };
  const method = typeof p.sharding_method === 'string' ? p.sharding_method : 'auto';
  const wantMethod = s.shard_key !== undefined ? 'custom' : 'auto';
  if (method !== wantMethod) {
    out.push(`sharding_method is ${method}, wanted ${wantMethod} (index.qdrant.shard_key ${s.shard_key !== undefined ? 'is set' : 'is unset'})`);
  }
  if (s.shard_number !== undefined) differ('shard_number', 'index.qdrant.shard_number', p.shard_number ?? 1, s.shard_number);
  if (s.replication_factor !== undefined) differ('replication_factor', 'index.qdrant.replication_factor', p.replication_factor ?? 1, s.replication_factor);
  if (s.write_consistency_factor !== undefined) {
    differ('write_consistency_factor', 'index.qdrant.write_consistency_factor', p.write_consistency_factor ?? 1, s.write_consistency_factor);
  }
  if (s.on_disk_payload !== undefined) differ('on_disk_payload', 'index.qdrant.on_disk_payload', p.on_disk_payload ?? true, s.on_disk_payload);

  const vectors = p.vectors as Record<string, unknown> | undefined;
  // A collection made with one unnamed vector has `vectors: { size, distance }`: it has no named vectors at all.
  const named = vectors && !('size' in vectors) ? (vectors as Record<string, Schemas['VectorParams'] | undefined>) : {};
  const dense = named[DENSE_VECTOR];
  const sparse = (p.sparse_vectors ?? {})[SPARSE_VECTOR];
  if (s.on_disk !== undefined) {
    if (dense) differ(`vectors.${DENSE_VECTOR}.on_disk`, 'index.qdrant.on_disk', dense.on_disk ?? false, s.on_disk);
    if (sparse) {
      const index = (sparse.index ?? {}) as Schemas['SparseIndexParams'];
      differ(`sparse_vectors.${SPARSE_VECTOR}.index.on_disk`, 'index.qdrant.on_disk', index.on_disk ?? false, s.on_disk);
    }
  }
  if (checkLayout) {
    if (layout.denseDim !== null) {
      if (!dense) out.push(`vectors.${DENSE_VECTOR} is missing, wanted size ${layout.denseDim} Cosine (the embed stage's dense vectors)`);
      else if (dense.size !== layout.denseDim || dense.distance !== 'Cosine') {
        out.push(`vectors.${DENSE_VECTOR} is size ${dense.size} ${dense.distance}, wanted size ${layout.denseDim} Cosine (the embed stage's dense vectors)`);
      }
    }
    if (layout.sparse) {
      const modifier = sparse ? (typeof sparse.modifier === 'string' ? sparse.modifier : 'none') : undefined;
      if (!sparse) out.push(`sparse_vectors.${SPARSE_VECTOR} is missing, wanted modifier none (the embed stage's BM25 vectors)`);
      else if (modifier !== 'none') out.push(`sparse_vectors.${SPARSE_VECTOR}.modifier is ${modifier}, wanted none (the query side carries the IDF)`);
    }
  }
  return out;
}

/** The shard keys of a collection, from its cluster info (local and remote shards; works on every Qdrant with custom sharding). */
export function shardKeysOf(info: Schemas['CollectionClusterInfo']): (string | number)[] {
  const keys = [...info.local_shards, ...info.remote_shards].map((s) => s.shard_key).filter((k): k is string | number => typeof k === 'string' || typeof k === 'number');
  return [...new Set(keys)];
}
