import { z } from 'zod';

// The pipeline file, one strict section per stage. Strict objects turn a typo into an error
// that names the key instead of a silently ignored setting.

const Splitter = z.strictObject({
  chunk_size: z.number().int().positive().default(1000),
  chunk_overlap: z.number().int().min(0).default(60),
  separators: z.array(z.string()).optional(),
}).refine((s) => s.chunk_overlap < s.chunk_size, {
  path: ['chunk_overlap'],
  message: 'must be smaller than chunk_size',
});

const CsvDocuments = z.strictObject({
  kind: z.literal('csv'),
  path: z.string(),
  /** Row template with {column} placeholders: one chunk per row (seed 000). */
  template: z.string(),
  id_column: z.string().optional(),
  /** A malformed record: skip it with a warning naming its line, or fail the run. */
  on_bad_row: z.enum(['skip', 'fail']).default('skip'),
  /** Split long rows with the splitter instead of keeping one chunk per row. */
  split: z.boolean().default(false),
  limit: z.number().int().positive().optional(),
  /** Text for an empty {column} value (a placeholder may carry its own: {price|n/a}). */
  empty_value: z.string().default('unknown'),
  /** In a multi-line template, drop a line whose placeholders are all empty (e.g. no price, no 'Price:' line). */
  drop_empty_lines: z.boolean().default(true),
});

const TextDocuments = z.strictObject({
  kind: z.literal('text'),
  /** A folder (every .txt/.md below it) or one file. */
  path: z.string(),
  extensions: z.array(z.string()).default(['.txt', '.md', '.markdown']),
});

const PdfDocuments = z.strictObject({
  kind: z.literal('pdf'),
  /** One PDF, or a folder (every .pdf below it). */
  path: z.string(),
  /** Text order per page: by position (lines top to bottom, two-column pages column by column), or the content stream's. */
  order: z.enum(['position', 'stream']).default('position'),
  /** Join words hyphenated across line breaks ("optimiza-\ntion" -> "optimization"). */
  dehyphenate: z.boolean().default(true),
  /** Unicode normalisation of the extracted text; ligatures (fi, fl, ff, ffi, ffl) are always expanded. */
  unicode: z.enum(['nfkc', 'nfc', 'none']).default('nfkc'),
});

export const DocumentSource = z.discriminatedUnion('kind', [CsvDocuments, TextDocuments, PdfDocuments]);

const QuestionSource = z.strictObject({
  path: z.string(),
  format: z.enum(['jsonl', 'csv', 'xlsx']).optional(),
  sheet: z.string().optional(),
  id_field: z.string().optional(),
  question_field: z.string().default('question'),
  reference_field: z.string().optional(),
  gold_field: z.string().optional(),
  /** Fraction held out for evaluation; the split is a seeded hash of the question id. */
  test_fraction: z.number().min(0).max(1).default(0.2),
  limit: z.number().int().positive().optional(),
});

const PovSource = z.strictObject({
  items: z.array(z.string().min(1)).optional(),
  path: z.string().optional(),
  format: z.enum(['xlsx', 'csv', 'jsonl', 'text']).optional(),
  sheet: z.string().optional(),
  column: z.string().default('pov'),
}).refine((p) => (p.items ? 1 : 0) + (p.path ? 1 : 0) === 1, { message: 'give either items or path' });

const PreferenceSource = z.strictObject({
  path: z.string(),
  format: z.enum(['jsonl', 'csv']).optional(),
  limit: z.number().int().positive().optional(),
});

export const IngestSection = z.strictObject({
  documents: z.array(DocumentSource).min(1),
  splitter: Splitter.default({ chunk_size: 1000, chunk_overlap: 60 }),
  questions: QuestionSource.optional(),
  povs: PovSource.optional(),
  preferences: PreferenceSource.optional(),
});

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

export const RankSection = z.strictObject({
  /** Which vectors the chunk x POV cosine uses; defaults to dense when embedded, else sparse. */
  vectors: z.enum(['dense', 'sparse']).optional(),
  /** How many re-ranked chunks become the context. */
  top_n: z.number().int().positive().default(5),
  heatmap: z.strictObject({
    svg: z.boolean().default(true),
    png: z.boolean().default(true),
    max_questions: z.number().int().min(0).default(20),
    /** Font files (.ttf/.otf/.ttc) tried before the system ones, e.g. a CJK font for Japanese POVs. */
    fonts: z.array(z.string()).default([]),
    /** Characters of chunk text and POV text shown in the heatmap's row and column labels. */
    label_chars: z.number().int().min(8).default(40),
  }).default({ svg: true, png: true, max_questions: 20, fonts: [], label_chars: 40 }),
});

export const PipelineSchema = z.strictObject({
  description: z.string().optional(),
  /** Every stage derives its randomness from this seed. */
  seed: z.number().int().min(0).default(0),
  ingest: IngestSection,
  embed: EmbedSection,
  index: IndexSection.default(IndexSection.parse({})),
  rank: RankSection.default(RankSection.parse({})),
});

export type PipelineConfig = z.infer<typeof PipelineSchema>;
export type IngestConfig = z.infer<typeof IngestSection>;
export type EmbedConfig = z.infer<typeof EmbedSection>;
export type IndexConfig = z.infer<typeof IndexSection>;
export type RankConfig = z.infer<typeof RankSection>;
export type DocumentSourceConfig = z.infer<typeof DocumentSource>;

/** The stages in DAG order, with what each one reads. */
export const STAGES = {
  ingest: { needs: [] },
  embed: { needs: ['ingest'] },
  index: { needs: ['ingest', 'embed'] },
  rank: { needs: ['index', 'embed'] },
} as const;
export type StageName = keyof typeof STAGES;
