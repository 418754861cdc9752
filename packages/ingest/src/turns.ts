/**
 * Conversation turns as stored in preference sets like LMSYS Chatbot Arena: a JSON list of strings
 * in a CSV cell, `["turn 1","turn 2"]`, with `null` for a missing turn. Seed 004 reads them with
 * Python's eval({'null': ''}); here JSON comes first, then a small tolerant reader for Python-style
 * literals (single quotes, None), and plain text is one turn. Nulls become '' like the seed's.
 */
export function parseTurns(v: unknown, at: string, field: string): string[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.map(turnText);
  const s = typeof v === 'string' ? v.trim() : String(v);
  if (!s.startsWith('[')) return s ? [s] : [];
  try {
    const parsed = JSON.parse(s) as unknown;
    if (Array.isArray(parsed)) return parsed.map(turnText);
  } catch {
    // not JSON: fall through to the Python-literal reader
  }
  const lenient = parseListLiteral(s);
  if (lenient) return lenient;
  throw new Error(`${at}: field '${field}' starts like a list of turns but cannot be read (${s.slice(0, 50)}...); write a JSON list such as ["turn 1","turn 2"]`);
}

function turnText(x: unknown): string {
  if (x === null || x === undefined) return '';
  return typeof x === 'string' ? x : JSON.stringify(x);
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '\\': '\\', "'": "'", '"': '"', '/': '/', '0': '\0' };

/** `['a', "b", None, null]` with backslash escapes; null when the text is not such a list. */
export function parseListLiteral(s: string): string[] | null {
  let i = 0;
  const out: string[] = [];
  const ws = () => { while (i < s.length && /\s/.test(s[i])) i++; };
  if (s[i++] !== '[') return null;
  ws();
  if (s[i] === ']') return i + 1 === s.trimEnd().length ? [] : null;
  for (;;) {
    ws();
    if (s.startsWith('None', i) || s.startsWith('null', i)) { out.push(''); i += 4; }
    else if (s[i] === '"' || s[i] === "'") {
      const q = s[i++];
      let str = '';
      while (i < s.length && s[i] !== q) {
        if (s[i] === '\\' && i + 1 < s.length) {
          const e = s[i + 1];
          if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) { str += String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16)); i += 6; continue; }
          if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) { str += String.fromCharCode(parseInt(s.slice(i + 2, i + 4), 16)); i += 4; continue; }
          str += ESCAPES[e] ?? `\\${e}`;
          i += 2;
          continue;
        }
        str += s[i++];
      }
      if (s[i] !== q) return null;
      i++;
      out.push(str);
    } else return null;
    ws();
    if (s[i] === ',') { i++; ws(); if (s[i] === ']') { i++; break; } continue; }
    if (s[i] === ']') { i++; break; }
    return null;
  }
  ws();
  return i === s.length ? out : null;
}
