import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RewardBatch } from '../src/index.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
/** The shared datasets folder beside the checkout (tests that need it are skipped without it). */
export const SHARED_STOPWORDS = path.resolve(REPO_ROOT, '../shared/datasets/stopwords');
export const HAVE_SHARED = existsSync(path.join(SHARED_STOPWORDS, 'nltk-english.txt'));

export interface Row {
  question_id?: string;
  question?: string;
  reference?: string | null;
  context?: string;
  prompt?: string;
  completion: string;
  ids?: number[];
  [extra: string]: unknown;
}

/** A batch from one row per completion (a test writes only the fields it cares about). */
export function batchOf(rows: Row[], extra: string[] = []): RewardBatch {
  return {
    prompts: rows.map((r) => r.prompt ?? ''),
    completions: rows.map((r) => r.completion),
    completionIds: rows.map((r) => r.ids ?? []),
    columns: {
      question_id: rows.map((r) => r.question_id ?? 'q1'),
      question: rows.map((r) => r.question ?? ''),
      reference: rows.map((r) => (r.reference === undefined ? null : r.reference)),
      context: rows.map((r) => r.context ?? ''),
      ...Object.fromEntries(extra.map((k) => [k, rows.map((r) => r[k] ?? null)])),
    },
  };
}
