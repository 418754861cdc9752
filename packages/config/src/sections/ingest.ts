import { z } from 'zod';

// ingest: documents (CSV rows, text folders, PDFs), questions, POVs and preference sets.

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
  /**
   * The field whose value the split hashes instead of the question id (e.g. `wine`: every question
   * about one wine lands on the same side, so no test wine is seen in training).
   */
  group_field: z.string().optional(),
  /** Fraction held out for evaluation; the split is a seeded hash of the question id (or of group_field). */
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
