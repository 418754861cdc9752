import { isMap, isPair, isScalar, LineCounter, type Document, type Node } from 'yaml';
import type { z } from 'zod';

/** Finds the YAML node a validation issue points at, so the message can carry line:column. */
function nodeAt(doc: Document, path: PropertyKey[]): Node | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as Node | undefined;
    if (node && (node as { range?: unknown }).range) return node;
  }
  return undefined;
}

function keyNode(doc: Document, path: PropertyKey[], key: string): Node | undefined {
  const parent = path.length ? doc.getIn(path as (string | number)[], true) : doc.contents;
  if (isMap(parent)) {
    for (const item of parent.items) {
      if (isPair(item) && isScalar(item.key) && item.key.value === key) return item.key as Node;
    }
  }
  return undefined;
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

export function suggest(word: string, options: string[]): string | undefined {
  const best = options.map((o) => [o, levenshtein(word, o)] as const).sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= Math.max(2, Math.floor(word.length / 3)) ? best[0] : undefined;
}

/** Allowed keys of the strict object a path lands in (used for "did you mean"). */
function allowedKeys(schema: z.ZodType, path: PropertyKey[], value: unknown): string[] {
  let s: unknown = schema;
  let v: unknown = value;
  const unwrap = (x: unknown): unknown => {
    let cur = x as { def?: { type: string; innerType?: unknown; in?: unknown; schema?: unknown; options?: unknown[]; discriminator?: string; element?: unknown; shape?: unknown } };
    for (;;) {
      const t = cur?.def?.type;
      if (t === 'default' || t === 'optional' || t === 'nullable' || t === 'prefault') cur = cur.def!.innerType as typeof cur;
      else if (t === 'pipe') cur = cur.def!.in as typeof cur;
      else return cur;
    }
  };
  const pick = (x: unknown, val: unknown): unknown => {
    const u = unwrap(x) as { def?: { type: string; options?: unknown[]; discriminator?: string } };
    if (u?.def?.type === 'union' && u.def.options) {
      const disc = u.def.discriminator;
      const kind = disc && val && typeof val === 'object' ? (val as Record<string, unknown>)[disc] : undefined;
      const match = u.def.options.find((o) => {
        const shape = (unwrap(o) as { def?: { shape?: Record<string, { def?: { values?: unknown[] } }> } }).def?.shape;
        return disc && shape?.[disc]?.def?.values?.includes(kind);
      });
      return unwrap(match ?? u.def.options[0]);
    }
    return u;
  };
  s = pick(s, v);
  for (const key of path) {
    const def = (s as { def?: { type: string; shape?: Record<string, unknown>; element?: unknown } }).def;
    if (def?.type === 'object' && def.shape) s = def.shape[key as string];
    else if (def?.type === 'array') s = def.element;
    else return [];
    v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
    s = pick(s, v);
  }
  const shape = (s as { def?: { shape?: Record<string, unknown> } }).def?.shape;
  return shape ? Object.keys(shape) : [];
}

export function formatIssues(file: string, doc: Document, lines: LineCounter, schema: z.ZodType, value: unknown, issues: z.core.$ZodIssue[]): string {
  return issues.map((issue) => {
    const dotted = (p: PropertyKey[]) => p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('').replace(/^\./, '');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const node = keyNode(doc, issue.path, key);
        const pos = node?.range ? lines.linePos(node.range[0]) : undefined;
        const hint = suggest(key, allowedKeys(schema, issue.path, value));
        const where = `${file}${pos ? `:${pos.line}:${pos.col}` : ''}`;
        const full = dotted([...issue.path, key]);
        return `${where}: unknown key '${full}'${hint ? ` (did you mean '${hint}'?)` : ''}`;
      }).join('\n');
    }
    const node = nodeAt(doc, issue.path);
    const pos = node?.range ? lines.linePos(node.range[0]) : undefined;
    const where = `${file}${pos ? `:${pos.line}:${pos.col}` : ''}`;
    return `${where}: ${dotted(issue.path) || '(top level)'}: ${issue.message}`;
  }).join('\n');
}
