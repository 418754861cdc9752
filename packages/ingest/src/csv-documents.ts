import { readUtf8File } from './utf8-file.ts';
import { parseCsvText } from './csv-records.ts';
import { checkTemplateColumns, compileTemplate, renderTemplate } from './row-template.ts';
import { csvRowChunkId } from './ids.ts';
import { splitText, type SplitterOptions } from './split-text.ts';
import type { ChunkRow, ReadHooks, SkippedRecord } from './types.ts';

export interface CsvDocumentOptions {
  /** The file to read (already resolved). */
  file: string;
  /** The path as written in the pipeline file: part of every chunk id, so ids do not depend on the checkout location. */
  source: string;
  template: string;
  idColumn?: string;
  onBadRow: 'skip' | 'fail';
  /** Split rendered rows longer than the splitter's chunk size into pieces. */
  split?: boolean;
  splitter?: SplitterOptions;
  limit?: number;
  emptyValue?: string;
  dropEmptyLines?: boolean;
}

export interface CsvDocumentResult {
  chunks: ChunkRow[];
  skipped: SkippedRecord[];
  /** Data records seen (well-formed and malformed). */
  records: number;
}

/** One chunk per CSV row (seed 000), the row rendered through the template; malformed rows reported by line. */
export async function readCsvDocuments(opts: CsvDocumentOptions, hooks: ReadHooks = {}): Promise<CsvDocumentResult> {
  const text = await readUtf8File(opts.file, 'CSV file');
  const parsed = parseCsvText(text, opts.file);
  if (parsed.records.length === 0 && parsed.bad.length === 0) throw new Error(`${opts.file}: the CSV has a header but no rows`);
  const template = compileTemplate(opts.template, `${opts.file}: template`);
  checkTemplateColumns(template, parsed.header, `${opts.file}`);
  if (opts.idColumn && !parsed.header.includes(opts.idColumn)) {
    throw new Error(`${opts.file}: id_column '${opts.idColumn}' is not a column of the CSV; columns: ${parsed.header.join(', ')}`);
  }
  const limit = opts.limit ?? Infinity;
  const skipped: SkippedRecord[] = [];
  for (const b of parsed.bad) {
    if (b.position >= limit) continue;
    if (opts.onBadRow === 'fail') {
      throw new Error(`${opts.file}:${b.line}: malformed CSV record: ${b.reason}. Fix the file, or set on_bad_row: skip to leave it out with a warning`);
    }
    skipped.push({ source: opts.source, line: b.line, reason: b.reason });
    hooks.warn?.(`${opts.file}:${b.line}: skipped malformed CSV record: ${b.reason}`);
  }
  const records = parsed.records.filter((r) => r.position < limit);
  const progress = hooks.progress?.(`csv rows ${opts.source}`, records.length, 'rows');
  const render = { emptyValue: opts.emptyValue ?? 'unknown', dropEmptyLines: opts.dropEmptyLines ?? true };
  const chunks: ChunkRow[] = [];
  const keys = new Map<string, number>();
  for (const r of records) {
    const key = opts.idColumn ? r.values[opts.idColumn].trim() : String(r.position);
    if (opts.idColumn) {
      if (!key) throw new Error(`${opts.file}:${r.line}: id_column '${opts.idColumn}' is empty; every row needs an id (or leave id_column out to use row positions)`);
      const first = keys.get(key);
      if (first !== undefined) throw new Error(`${opts.file}:${r.line}: id '${key}' in column '${opts.idColumn}' already used on line ${first}; ids must be unique`);
      keys.set(key, r.line);
    }
    const body = renderTemplate(template, r.values, render);
    const docId = `${opts.source}#${key}`;
    const metadata = JSON.stringify({ line: r.line, row: r.values });
    if (opts.split && opts.splitter && body.length > opts.splitter.chunkSize) {
      const pieces = await splitText(body, opts.splitter);
      pieces.forEach((p, i) => chunks.push({
        chunk_id: csvRowChunkId(opts.source, key, i), doc_id: docId, source: opts.source,
        text: p.text, start_index: p.start, chunk_index: i, page: null, metadata,
      }));
    } else {
      chunks.push({
        chunk_id: csvRowChunkId(opts.source, key), doc_id: docId, source: opts.source,
        text: body, start_index: 0, chunk_index: 0, page: null, metadata,
      });
    }
    progress?.tick();
  }
  progress?.done(skipped.length ? `${skipped.length} malformed skipped` : undefined);
  return { chunks, skipped, records: records.length + skipped.length };
}
