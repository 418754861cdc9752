import { suggest } from '@ragrpo/config';

/**
 * Row templates: `{column}` is replaced by the row's value, `{column|fallback}` uses `fallback`
 * when the value is empty, `{{` and `}}` are literal braces. Hand-written because the syntax is
 * this small and the errors must name the pipeline's columns, which a general engine would not.
 */

type Part = { text: string } | { column: string; fallback?: string };

export interface RowTemplate {
  lines: Part[][];
  columns: string[];
}

export interface RenderOptions {
  /** Text for an empty value without its own `|fallback`. */
  emptyValue: string;
  /** Drop a template line whose placeholders are all empty (and have no fallback), keeping the others. */
  dropEmptyLines: boolean;
}

const TOKEN = /\{\{|\}\}|\{([^{}|]*)(?:\|([^{}]*))?\}/g;

export function compileTemplate(template: string, where: string): RowTemplate {
  const columns = new Set<string>();
  const lines = template.split('\n').map((line) => {
    const parts: Part[] = [];
    let last = 0;
    for (const m of line.matchAll(TOKEN)) {
      if (m.index > last) parts.push({ text: line.slice(last, m.index) });
      last = m.index + m[0].length;
      if (m[0] === '{{') { parts.push({ text: '{' }); continue; }
      if (m[0] === '}}') { parts.push({ text: '}' }); continue; }
      const column = m[1].trim();
      if (!column) throw new Error(`${where}: empty placeholder '${m[0]}' in the template; write {column_name}, or {{ for a literal brace`);
      columns.add(column);
      parts.push({ column, fallback: m[2] });
    }
    const rest = line.slice(last);
    if (/[{}]/.test(rest)) throw new Error(`${where}: unbalanced brace in the template line '${line}'; write {{ or }} for a literal brace`);
    if (rest) parts.push({ text: rest });
    return parts;
  });
  if (columns.size === 0) throw new Error(`${where}: the template has no {column} placeholders, so every chunk would be the same text`);
  return { lines, columns: [...columns] };
}

/** Fails with the placeholder and the CSV's columns (and the closest one) when a placeholder is no column. */
export function checkTemplateColumns(t: RowTemplate, header: string[], where: string): void {
  for (const c of t.columns) {
    if (header.includes(c)) continue;
    const near = suggest(c, header) ?? header.find((h) => h.toLowerCase() === c.toLowerCase());
    throw new Error(`${where}: template placeholder {${c}} is not a column of the CSV${near ? ` (did you mean {${near}}?)` : ''}; columns: ${header.join(', ')}`);
  }
}

export function renderTemplate(t: RowTemplate, row: Record<string, string>, opts: RenderOptions): string {
  const out: string[] = [];
  for (const parts of t.lines) {
    let text = '';
    let placeholders = 0;
    let empty = 0;
    for (const p of parts) {
      if ('text' in p) { text += p.text; continue; }
      placeholders++;
      const v = (row[p.column] ?? '').trim();
      if (v) text += v;
      else if (p.fallback !== undefined) text += p.fallback;
      else { empty++; text += opts.emptyValue; }
    }
    if (opts.dropEmptyLines && placeholders > 0 && empty === placeholders && t.lines.length > 1) continue;
    out.push(text);
  }
  return out.join('\n').trim();
}
