import { parse } from 'csv-parse/sync';
import type { CsvError } from 'csv-parse';

export interface CsvRecord {
  /** 1-based line where the record starts (a quoted field may span lines). */
  line: number;
  /** 0-based position among the well-formed and malformed records. */
  position: number;
  values: Record<string, string>;
}

export interface BadRecord {
  line: number;
  position: number;
  reason: string;
}

export interface ParsedCsv {
  header: string[];
  records: CsvRecord[];
  bad: BadRecord[];
}

/**
 * Parses CSV text (RFC 4180 quoting, fields spanning lines, BOM already removed) with csv-parse
 * and sorts records into well-formed ones and malformed ones with their starting line, instead
 * of letting a short or broken record shift or vanish: a truncated last row is reported.
 */
export function parseCsvText(text: string, file: string): ParsedCsv {
  const bad: BadRecord[] = [];
  // One line-end convention: csv-parse's line counter is off for CRLF inside quoted fields, and the
  // line numbers in messages must match what an editor shows. Quoted CRLFs become LF in values.
  text = text.replace(/\r\n?/g, '\n');
  let rows: { record: string[]; info: { lines: number }; raw: string }[];
  try {
    rows = parse(text, {
      bom: true,
      info: true,
      raw: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (err: CsvError | undefined, raw: string | undefined) => {
        // csv-parse reports the line where it gave up; walk back over the record's own newlines.
        const end = (err as unknown as { lines?: number })?.lines ?? 0;
        bad.push({ line: startLine(end, raw ?? ''), position: -1, reason: `${err?.message ?? 'unparseable record'}`.replace(/\s+/g, ' ') });
        return undefined;
      },
    }) as unknown as typeof rows;
  } catch (err) {
    throw new Error(`${file}: cannot parse as CSV (${(err as Error).message})`);
  }
  if (rows.length === 0) throw new Error(`${file}: no CSV header row found`);
  const header = rows[0].record.map((h) => h.trim());
  const seen = new Set<string>();
  header.forEach((h, i) => {
    if (!h) throw new Error(`${file}:1: header column ${i + 1} has no name; every column needs a name`);
    if (seen.has(h)) throw new Error(`${file}:1: header column '${h}' appears twice; column names must be unique`);
    seen.add(h);
  });
  const records: CsvRecord[] = [];
  for (const r of rows.slice(1)) {
    const line = startLine(r.info.lines, r.raw);
    const pos = -1;
    if (r.record.length !== header.length) {
      const n = r.record.length;
      const reason = n < header.length
        ? `record has ${n} fields, the header has ${header.length} (missing ${header.slice(n).join(', ')}): truncated or unbalanced row`
        : `record has ${n} fields, the header has ${header.length}: an unquoted comma or a stray quote`;
      bad.push({ line, position: pos, reason });
      continue;
    }
    const values: Record<string, string> = {};
    header.forEach((h, i) => { values[h] = r.record[i]; });
    records.push({ line, position: pos, values });
  }
  // A record's position is its place in the file among all data records, malformed ones included,
  // so ids of the rows after a broken one do not shift when it is fixed.
  const all = [...records, ...bad].sort((a, b) => a.line - b.line);
  all.forEach((r, i) => { r.position = i; });
  bad.sort((a, b) => a.line - b.line);
  return { header, records, bad };
}

function startLine(endLine: number, raw: string): number {
  const body = raw.replace(/^(\r?\n)+/, '').replace(/\r?\n$/, '');
  return endLine - (body.match(/\n/g)?.length ?? 0);
}
