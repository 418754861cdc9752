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
  }).default({ api_key_env: 'QDRANT_API_KEY', timeout_ms: 10_000, batch_size: 256, retries: 3 }),
  search: z.enum(['dense', 'sparse', 'hybrid']).default('sparse'),
  top_k: z.number().int().positive().default(10),
  /** Reciprocal rank fusion constant (Qdrant and the literature use 60). */
  rrf_k: z.number().positive().default(60),
  /** Hybrid search: candidates fetched by each of dense and sparse before fusion; default max(2 * top_k, 50). */
  prefetch: z.number().int().positive().optional(),
});
