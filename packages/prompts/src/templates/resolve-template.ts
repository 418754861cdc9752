import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TemplateRefConfig } from '@ragrpo/config';
import { BUILTIN_TEMPLATES, type TemplateSpec } from './builtin.ts';

const PLACEHOLDER = /\{(\w+)\}/g;
const KNOWN = new Set(['question', 'context', 'documents']);

/** A template from the pipeline file: a built-in name, or a user file (with {question} and {context} or {documents}). */
export function resolveTemplate(ref: TemplateRefConfig, resolve: (p: string) => string, where: string): TemplateSpec {
  if (typeof ref === 'string') return BUILTIN_TEMPLATES[ref];
  const file = resolve(ref.file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${where}.file: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
  }
  const names = [...text.matchAll(PLACEHOLDER)].map((m) => m[1]);
  const unknown = names.filter((n) => !KNOWN.has(n));
  if (!names.includes('question')) throw new Error(`${file}: the template has no {question} placeholder (it may use {question}, {context} and {documents})`);
  if (unknown.length) throw new Error(`${file}: unknown placeholder {${unknown[0]}}; a template may use {question}, {context} and {documents}`);
  return { name: ref.name ?? path.basename(file).replace(/\.[^.]+$/, ''), text, chat: ref.chat ? 'always' : 'never' };
}

/** Fills {question}, {context} and {documents} in one pass (a placeholder inside the question stays as typed). */
export function fillTemplate(text: string, values: { question: string; context: string; documents: string }): string {
  return text.replace(PLACEHOLDER, (m, name: string) => (name in values ? values[name as keyof typeof values] : m));
}
