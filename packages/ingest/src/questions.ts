import { findColumn, inferFormat, readRecords, textOf, type RecordFormat } from './read-records.ts';
import { shortHash, unitHash } from './ids.ts';
import type { QuestionRow } from './types.ts';

export interface QuestionOptions {
  file: string;
  source: string;
  format?: 'jsonl' | 'csv' | 'xlsx';
  sheet?: string;
  idField?: string;
  questionField?: string;
  referenceField?: string;
  goldField?: string;
  /**
   * The field the split hashes instead of the question id, so questions that share its value (e.g.
   * several questions about one wine) land on the same side.
   */
  groupField?: string;
  testFraction: number;
  seed: number;
  limit?: number;
}

/**
 * The split of one question: test when a seeded hash of its id falls below the fraction. Hashing
 * the id (not the row order) keeps a question on the same side when rows are added or reordered.
 * With a group field the key hashed is the group's value instead (`assignSplit(group, ...)`), so a
 * group never straddles the split.
 */
export function assignSplit(questionId: string, seed: number, testFraction: number): 'train' | 'test' {
  return unitHash(seed, questionId) < testFraction ? 'test' : 'train';
}

/** Gold chunk ids from a JSON array, a JSON-ish list in a cell ('["a","b"]') or a ',', ';' or '|' separated cell. */
export function parseIdList(v: unknown, at: string): string[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.map((x) => textOf(x)).filter((x) => x);
  const s = textOf(v);
  if (!s) return [];
  if (s.startsWith('[')) {
    try {
      const parsed = JSON.parse(s) as unknown;
      if (Array.isArray(parsed)) return parsed.map((x) => textOf(x)).filter((x) => x);
    } catch {
      throw new Error(`${at}: gold chunk ids '${s.slice(0, 60)}' look like a list but are not valid JSON; write ["id1","id2"] or id1;id2`);
    }
  }
  return s.split(/[,;|]/).map((x) => x.trim()).filter((x) => x);
}

/** Questions with optional reference answers and gold chunks, and a seeded train/test split. */
export async function readQuestions(opts: QuestionOptions): Promise<QuestionRow[]> {
  const format = inferFormat(opts.file, ['jsonl', 'csv', 'xlsx'], opts.format as RecordFormat | undefined);
  const set = await readRecords(opts.file, format, opts.sheet);
  const qCol = findColumn(set, opts.questionField ?? 'question', 'question field');
  const idCol = opts.idField ? findColumn(set, opts.idField, 'id field') : undefined;
  const refCol = opts.referenceField ? findColumn(set, opts.referenceField, 'reference field') : undefined;
  const goldCol = opts.goldField ? findColumn(set, opts.goldField, 'gold field') : undefined;
  const groupCol = opts.groupField ? findColumn(set, opts.groupField, 'group field') : undefined;
  const records = set.records.slice(0, opts.limit ?? Infinity);
  const seen = new Map<string, string>();
  const textSeen = new Map<string, number>();
  return records.map((r) => {
    const question = textOf(r.values[qCol]);
    if (!question) throw new Error(`${r.at}: the question ('${qCol}') is empty`);
    let id: string;
    if (idCol) {
      id = textOf(r.values[idCol]);
      if (!id) throw new Error(`${r.at}: the id ('${idCol}') is empty`);
    } else {
      // No id column: the id is the question text's hash (stable under reordering); repeats get a counter.
      const n = textSeen.get(question) ?? 0;
      textSeen.set(question, n + 1);
      id = `q-${shortHash(question, n)}`;
    }
    const prev = seen.get(id);
    if (prev) throw new Error(`${r.at}: question id '${id}' already used at ${prev}; ids must be unique`);
    seen.set(id, r.at);
    const reference = refCol ? textOf(r.values[refCol]) || null : null;
    let splitKey = id;
    if (groupCol) {
      splitKey = textOf(r.values[groupCol]);
      if (!splitKey) throw new Error(`${r.at}: the group ('${groupCol}') is empty; every question needs one to be split by it`);
    }
    return {
      question_id: id,
      question,
      reference,
      split: assignSplit(splitKey, opts.seed, opts.testFraction),
      gold_chunk_ids: goldCol ? parseIdList(r.values[goldCol], r.at) : [],
      source: opts.source,
    };
  });
}
