import { findColumn, inferFormat, readRecords, textOf } from './read-records.ts';
import type { PovRow } from './types.ts';

export interface PovOptions {
  items?: string[];
  file?: string;
  source?: string;
  format?: 'xlsx' | 'csv' | 'jsonl' | 'text';
  sheet?: string;
  column?: string;
}

/** Points of view (seed 002): inline items from the pipeline file, or a sheet/CSV/JSONL column, or text lines. */
export async function readPovs(opts: PovOptions): Promise<PovRow[]> {
  if (opts.items) {
    return opts.items.map((text, i) => ({ pov_id: `pov-${String(i + 1).padStart(3, '0')}`, text: text.trim(), source: 'pipeline' }));
  }
  if (!opts.file) throw new Error('povs: give either items or path');
  const format = inferFormat(opts.file, ['xlsx', 'csv', 'jsonl', 'text'], opts.format);
  const set = await readRecords(opts.file, format, opts.sheet);
  const col = format === 'text' ? 'text' : findColumn(set, opts.column ?? 'pov', 'POV column');
  const out: PovRow[] = [];
  for (const r of set.records) {
    const text = textOf(r.values[col]);
    if (!text) continue; // a blank cell in a POV list is spacing, not a point of view
    out.push({ pov_id: `pov-${String(out.length + 1).padStart(3, '0')}`, text, source: opts.source ?? opts.file });
  }
  if (out.length === 0) throw new Error(`${set.where}: column '${col}' holds no POV text`);
  return out;
}
