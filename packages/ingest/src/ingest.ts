import type { IngestConfig, OutputWriter } from '@ragrpo/config';
import type { Table } from 'apache-arrow';
import { Chunks, Povs, Preferences, Questions, tableFromRows } from '@ragrpo/contracts';
import { readCsvDocuments } from './csv-documents.ts';
import { readTextDocuments } from './text-documents.ts';
import { readPdfDocuments } from './pdf-documents.ts';
import { readQuestions } from './questions.ts';
import { readPovs } from './povs.ts';
import { readPreferences } from './preferences.ts';
import type { SplitterOptions } from './split-text.ts';
import type { ChunkRow, PovRow, PreferenceRow, QuestionRow, ReadHooks, SkippedRecord } from './types.ts';

export interface IngestContext extends ReadHooks {
  /** The pipeline seed (train/test split). */
  seed: number;
  /** Resolves a path as written in the pipeline file (relative to the workspace root). */
  resolve: (p: string) => string;
}

export interface DocumentReport {
  source: string;
  kind: 'csv' | 'text' | 'pdf';
  chunks: number;
  files?: number;
  records?: number;
  pages?: number;
  skipped?: number;
}

export interface IngestReport {
  documents: DocumentReport[];
  chunks: number;
  /** Malformed records left out (on_bad_row: skip), each with its line. */
  skipped: SkippedRecord[];
  warnings: string[];
  splitter: { chunk_size: number; chunk_overlap: number; separators: string[] | null };
  questions: { source: string; count: number; train: number; test: number; with_reference: number; with_gold: number; unknown_gold_ids: number } | null;
  povs: { source: string; count: number } | null;
  preferences: { source: string; count: number; model_a: number; model_b: number; tie: number; unlabelled: number } | null;
}

export interface IngestResult {
  chunks: ChunkRow[];
  questions?: QuestionRow[];
  povs?: PovRow[];
  preferences?: PreferenceRow[];
  report: IngestReport;
}

/** Runs the whole ingest section: documents to chunks, and the questions, POVs and preferences it names. */
export async function runIngest(cfg: IngestConfig, ctx: IngestContext): Promise<IngestResult> {
  const warnings: string[] = [];
  const warn = (m: string) => { warnings.push(m); ctx.warn?.(m); };
  const hooks: ReadHooks = { progress: ctx.progress, warn };
  const splitter: SplitterOptions = {
    chunkSize: cfg.splitter.chunk_size, chunkOverlap: cfg.splitter.chunk_overlap, separators: cfg.splitter.separators,
  };
  const chunks: ChunkRow[] = [];
  const skipped: SkippedRecord[] = [];
  const documents: DocumentReport[] = [];
  for (const doc of cfg.documents) {
    const file = ctx.resolve(doc.path);
    if (doc.kind === 'csv') {
      const r = await readCsvDocuments({
        file, source: doc.path, template: doc.template, idColumn: doc.id_column, onBadRow: doc.on_bad_row,
        split: doc.split, splitter, limit: doc.limit, emptyValue: doc.empty_value, dropEmptyLines: doc.drop_empty_lines,
      }, hooks);
      chunks.push(...r.chunks);
      skipped.push(...r.skipped);
      documents.push({ source: doc.path, kind: 'csv', chunks: r.chunks.length, records: r.records, skipped: r.skipped.length });
    } else if (doc.kind === 'text') {
      const r = await readTextDocuments({ path: file, source: doc.path, extensions: doc.extensions, splitter }, hooks);
      chunks.push(...r.chunks);
      documents.push({ source: doc.path, kind: 'text', chunks: r.chunks.length, files: r.files });
    } else {
      const r = await readPdfDocuments({
        path: file, source: doc.path, splitter, order: doc.order, dehyphenate: doc.dehyphenate, unicode: doc.unicode,
      }, hooks);
      chunks.push(...r.chunks);
      documents.push({ source: doc.path, kind: 'pdf', chunks: r.chunks.length, files: r.files, pages: r.pages });
    }
  }
  const ids = new Set<string>();
  for (const c of chunks) {
    if (ids.has(c.chunk_id)) throw new Error(`ingest.documents: chunk ${c.chunk_id} (${c.doc_id}) appears twice; is the same source listed twice?`);
    ids.add(c.chunk_id);
  }
  if (chunks.length === 0) throw new Error('ingest.documents: no chunks were produced; the documents hold no text');

  const result: IngestResult = {
    chunks,
    report: {
      documents, chunks: chunks.length, skipped, warnings,
      splitter: { chunk_size: splitter.chunkSize, chunk_overlap: splitter.chunkOverlap, separators: splitter.separators ?? null },
      questions: null, povs: null, preferences: null,
    },
  };

  if (cfg.questions) {
    const q = cfg.questions;
    const rows = await readQuestions({
      file: ctx.resolve(q.path), source: q.path, format: q.format, sheet: q.sheet, idField: q.id_field,
      questionField: q.question_field, referenceField: q.reference_field, goldField: q.gold_field,
      groupField: q.group_field, testFraction: q.test_fraction, seed: ctx.seed, limit: q.limit,
    });
    const unknown = rows.reduce((n, r) => n + r.gold_chunk_ids.filter((g) => !ids.has(g)).length, 0);
    if (unknown) warn(`${q.path}: ${unknown} gold chunk id${unknown === 1 ? '' : 's'} name no chunk of this ingest (were they made from other documents or settings?)`);
    result.questions = rows;
    result.report.questions = {
      source: q.path, count: rows.length,
      train: rows.filter((r) => r.split === 'train').length, test: rows.filter((r) => r.split === 'test').length,
      with_reference: rows.filter((r) => r.reference !== null).length,
      with_gold: rows.filter((r) => r.gold_chunk_ids.length > 0).length, unknown_gold_ids: unknown,
    };
  }
  if (cfg.povs) {
    const p = cfg.povs;
    const rows = await readPovs({ items: p.items, file: p.path ? ctx.resolve(p.path) : undefined, source: p.path, format: p.format, sheet: p.sheet, column: p.column });
    result.povs = rows;
    result.report.povs = { source: p.path ?? 'pipeline', count: rows.length };
  }
  if (cfg.preferences) {
    const p = cfg.preferences;
    const rows = await readPreferences({ file: ctx.resolve(p.path), source: p.path, format: p.format, limit: p.limit });
    result.preferences = rows;
    const count = (w: PreferenceRow['winner']) => rows.filter((r) => r.winner === w).length;
    result.report.preferences = { source: p.path, count: rows.length, model_a: count('model_a'), model_b: count('model_b'), tie: count('tie'), unlabelled: count(null) };
  }
  return result;
}

/** The artifact names downstream stages read. */
/** Writes chunks, and questions/povs/preferences only when configured, plus the report (names from stage.json). */
export async function writeIngestArtifacts(result: IngestResult, write: OutputWriter): Promise<string[]> {
  const written: string[] = [];
  const put = async (name: string, data: Table | string) => { await write(name, data); written.push(name); };
  await put('chunks', tableFromRows(Chunks, result.chunks));
  const { questions, povs, preferences } = result;
  if (questions) await put('questions', tableFromRows(Questions, questions));
  if (povs) await put('povs', tableFromRows(Povs, povs));
  if (preferences) await put('preferences', tableFromRows(Preferences, preferences));
  await put('report', JSON.stringify(result.report, null, 2) + '\n');
  return written;
}

/** The one line the command prints. */
export function ingestSummary(r: IngestResult): string {
  const parts = [`${r.chunks.length} chunks from ${r.report.documents.length} source${r.report.documents.length === 1 ? '' : 's'}`];
  if (r.report.skipped.length) parts.push(`${r.report.skipped.length} malformed record${r.report.skipped.length === 1 ? '' : 's'} skipped (line ${r.report.skipped.map((s) => s.line).join(', ')})`);
  if (r.report.questions) parts.push(`${r.report.questions.count} questions (${r.report.questions.train} train / ${r.report.questions.test} test)`);
  if (r.report.povs) parts.push(`${r.report.povs.count} POVs`);
  if (r.report.preferences) parts.push(`${r.report.preferences.count} preference pairs`);
  return parts.join(', ');
}
