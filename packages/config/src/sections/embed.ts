import { z } from 'zod';

// embed: sparse BM25 and/or dense transformers.js vectors.

export const EmbedSection = z.strictObject({
  sparse: z.strictObject({
    kind: z.literal('bm25').default('bm25'),
    k1: z.number().positive().default(1.2),
    b: z.number().min(0).max(1).default(0.75),
    language: z.enum(['english', 'german', 'none']).default('english'),
    /** A stop-word list, one word a line, instead of the language's built-in one. */
    stopwords: z.string().optional(),
    /** Stem tokens (Porter for english, Snowball for german; 'none' never stems). */
    stem: z.boolean().default(true),
  }).optional(),
  dense: z.strictObject({
    /** A hub id or a local folder in the Hugging Face layout. */
    model: z.string(),
    /** Unset: the model family's pooling (cls for bge, mean otherwise). */
    pooling: z.enum(['mean', 'cls', 'none']).optional(),
    normalize: z.boolean().default(true),
    /** Unset: the model family's prefix ('query: ' for e5, bge's search instruction, else none). */
    query_prefix: z.string().optional(),
    /** Unset: the model family's prefix ('passage: ' for e5, else none). */
    document_prefix: z.string().optional(),
    /** Where hub ids are looked up locally (<models_dir>/<hub id>) and, with allow_remote, downloaded to. */
    models_dir: z.string().default('models'),
    batch_size: z.number().int().positive().default(32),
    dtype: z.enum(['fp32', 'fp16', 'q8']).default('fp32'),
    /** Allow downloading from the hub. Off by default: offline runs must never reach for the network. */
    allow_remote: z.boolean().default(false),
  }).optional(),
}).refine((e) => e.sparse || e.dense, { message: 'configure sparse, dense or both' });
