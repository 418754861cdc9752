import path from 'node:path';
import ExcelJS from 'exceljs';
import { readUtf8File } from './utf8-file.ts';
import { parseCsvText } from './csv-records.ts';

export type RecordFormat = 'jsonl' | 'csv' | 'xlsx' | 'text';

export interface SourceRecord {
  /** Where the record is, for messages: 'file:12' or "file, sheet 'Q', row 12". */
  at: string;
  /** 0-based position among the records. */
  position: number;
  values: Record<string, unknown>;
}

export interface RecordSet {
  /** The file (and sheet) for messages. */
  where: string;
  columns: string[];
  records: SourceRecord[];
}

export function inferFormat(file: string, allowed: RecordFormat[], given?: RecordFormat): RecordFormat {
  if (given) return given;
  const ext = path.extname(file).toLowerCase();
  const byExt: Record<string, RecordFormat> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.csv': 'csv', '.xlsx': 'xlsx', '.txt': 'text' };
  if (ext === '.xls') throw new Error(`${file}: the old binary .xls format is not read; save the workbook as .xlsx`);
  const f = byExt[ext];
  if (!f || !allowed.includes(f)) {
    throw new Error(`${file}: cannot tell the format from the extension '${ext || '(none)'}'; name it ${allowed.map((a) => `.${a === 'text' ? 'txt' : a}`).join('/')} or set format: ${allowed.join('|')}`);
  }
  return f;
}

/** Rows of a JSONL, CSV or XLSX file (or lines of a text file as column 'text'), with their location for messages. */
export async function readRecords(file: string, format: RecordFormat, sheet?: string): Promise<RecordSet> {
  switch (format) {
    case 'jsonl': return readJsonl(file);
    case 'csv': return readCsv(file);
    case 'xlsx': return readXlsx(file, sheet);
    case 'text': {
      const lines = (await readUtf8File(file, 'text file')).split(/\r?\n/);
      const records: SourceRecord[] = [];
      lines.forEach((l, i) => { if (l.trim()) records.push({ at: `${file}:${i + 1}`, position: records.length, values: { text: l.trim() } }); });
      return { where: file, columns: ['text'], records };
    }
  }
}

async function readJsonl(file: string): Promise<RecordSet> {
  const text = await readUtf8File(file, 'JSONL file');
  const columns = new Set<string>();
  const records: SourceRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new Error(`${file}:${i + 1}: not valid JSON (${(err as Error).message}); each line must be one JSON object`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${file}:${i + 1}: each line must be a JSON object, found ${Array.isArray(v) ? 'an array' : typeof v}`);
    Object.keys(v).forEach((k) => columns.add(k));
    records.push({ at: `${file}:${i + 1}`, position: records.length, values: v as Record<string, unknown> });
  });
  if (records.length === 0) throw new Error(`${file}: no records (the file has only blank lines)`);
  return { where: file, columns: [...columns], records };
}

async function readCsv(file: string): Promise<RecordSet> {
  const parsed = parseCsvText(await readUtf8File(file, 'CSV file'), file);
  if (parsed.bad.length) {
    const b = parsed.bad[0];
    throw new Error(`${file}:${b.line}: malformed CSV record: ${b.reason}`);
  }
  if (parsed.records.length === 0) throw new Error(`${file}: the CSV has a header but no rows`);
  return {
    where: file,
    columns: parsed.header,
    records: parsed.records.map((r) => ({ at: `${file}:${r.line}`, position: r.position, values: r.values })),
  };
}

async function readXlsx(file: string, sheetName?: string): Promise<RecordSet> {
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${file}: not found (the path is resolved against the workspace root)`);
    throw new Error(`${file}: not a readable .xlsx workbook (${(err as Error).message})`);
  }
  const names = wb.worksheets.map((w) => w.name);
  const ws = sheetName === undefined ? wb.worksheets[0] : wb.getWorksheet(sheetName);
  if (!ws) {
    throw new Error(sheetName === undefined ? `${file}: the workbook has no sheets` : `${file}: no sheet '${sheetName}'; sheets: ${names.join(', ')}`);
  }
  const where = `${file}, sheet '${ws.name}'`;
  let header: string[] | null = null;
  const records: SourceRecord[] = [];
  ws.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const cells: string[] = [];
    row.eachCell({ includeEmpty: true }, (cell, col) => { cells[col - 1] = cellText(cell); });
    if (!header) {
      header = Array.from(cells, (c) => (c ?? '').trim());
      return;
    }
    const values: Record<string, unknown> = {};
    header.forEach((h, i) => { if (h) values[h] = cells[i] ?? ''; });
    if (Object.values(values).every((v) => v === '')) return;
    records.push({ at: `${where}, row ${rowNumber}`, position: records.length, values });
  });
  if (!header) throw new Error(`${where}: the sheet is empty`);
  if (records.length === 0) throw new Error(`${where}: the sheet has a header row but no data rows`);
  return { where, columns: (header as string[]).filter((h) => h), records };
}

function cellText(cell: ExcelJS.Cell): string {
  const v = cell.value as unknown;
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') {
    const o = v as { richText?: { text: string }[]; result?: unknown; text?: unknown; error?: string };
    if (o.richText) return o.richText.map((r) => r.text).join('');
    if ('result' in o) return o.result === undefined || o.result === null ? '' : String(o.result);
    if (typeof o.text === 'string') return o.text;
    if (o.error) return '';
  }
  return cell.text ?? '';
}

/**
 * The column holding `name`: an exact match, or the one column equal to it ignoring case
 * (seed 002's sheet says 'POV' where the pipeline default is 'pov').
 */
export function findColumn(set: RecordSet, name: string, role: string): string {
  if (set.columns.includes(name)) return name;
  const ci = set.columns.filter((c) => c.toLowerCase() === name.toLowerCase());
  if (ci.length === 1) return ci[0];
  throw new Error(`${set.where}: no column '${name}' (the ${role}); columns found: ${set.columns.join(', ') || '(none)'}. Rename the column or set the field option`);
}

/** A cell as trimmed text ('' for empty); JSON values other than strings are stringified. */
export function textOf(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
