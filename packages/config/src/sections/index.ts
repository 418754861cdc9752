import { z } from 'zod';

// index: the vector store (embedded or Qdrant) and the search per question.

export const IndexSection = z.strictObject({
  store: z.enum(['auto', 'embedded', 'qdrant']).default('auto'),
  qdrant: z.strictObject({
    url: z.string().optional(),
    collection: z.string().optional(),
    api_key_env: z.string().default('QDRANT_API_KEY'),
    timeout_ms: z.number().int().positive().default(10_000),
    batch_size: z.number().int().positive().default(256),
    /** Retries of a transient Qdrant failure (network, timeout, 5xx, 429) per request, with back-off. */
    retries: z.number().int().min(0).default(3),
    // Distributed mode: passed to Qdrant's create-collection API under these names; unset = Qdrant's default
    // (and not compared with an existing collection's).
    /** Shards of the collection (Qdrant: 1 standalone, else the node count); with shard_key, shards per shard key. */
    shard_number: z.number().int().positive().optional(),
    /** Copies of each shard (Qdrant default 1). */
    replication_factor: z.number().int().positive().optional(),
    /** Replicas that must apply a write for it to succeed (Qdrant default 1; at most replication_factor). */
    write_consistency_factor: z.number().int().positive().optional(),
    /** Vectors served from disk (memmap): the dense vector's `on_disk` and the sparse index's `index.on_disk` (Qdrant default false). */
    on_disk: z.boolean().optional(),
    /** Payload kept on disk, read per request (Qdrant default true). */
    on_disk_payload: z.boolean().optional(),
    /**
     * Multi-tenant collections: the collection uses `sharding_method: custom` and this run's points live under this
     * shard key (created when missing); a run replaces only its shard key's points, never the collection.
     */
    shard_key: z.union([z.string().min(1), z.number().int().nonnegative()]).optional(),
  }).superRefine((q, ctx) => {
    const replicas = q.replication_factor ?? 1;
    if (q.write_consistency_factor !== undefined && q.write_consistency_factor > replicas) {
      ctx.addIssue({
        code: 'custom', path: ['write_consistency_factor'],
        message: `write_consistency_factor ${q.write_consistency_factor} is more than the ${replicas} replica${replicas === 1 ? '' : 's'} of each shard (replication_factor${q.replication_factor === undefined ? ' unset: 1' : ''}): every write would fail`,
      });
    }
  }).default({ api_key_env: 'QDRANT_API_KEY', timeout_ms: 10_000, batch_size: 256, retries: 3 }),
  search: z.enum(['dense', 'sparse', 'hybrid']).default('sparse'),
  top_k: z.number().int().positive().default(10),
  /** Reciprocal rank fusion constant (Qdrant and the literature use 60). */
  rrf_k: z.number().positive().default(60),
  /** Hybrid search: candidates fetched by each of dense and sparse before fusion; default max(2 * top_k, 50). */
  prefetch: z.number().int().positive().optional(),
});
