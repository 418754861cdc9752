/**
 * Generates the wine question sets: questions about rows of the wine-review sample, each with a
 * reference answer and the chunk id ingest gives that row (its gold chunk), for the wine pipeline
 * (seed 000) and retrieval metrics.
 *
 *   npx tsx tools/datasets/wine-questions.ts [--set classic|qa] [--csv PATH] [--source PATH] [--id-column id|none] [--count N] [--per-wine K] [--seed 0] [--out FILE]
 *
 * - `--set classic` (the default): datasets/wine-questions.jsonl, 120 questions of three kinds
 *   (the wine described by its opening sentence, a taster's whole review, points and price in one
 *   sentence), one per wine. Many tests use this file: keep it as it is.
 * - `--set qa`: datasets/wine-qa.jsonl, the learning set of the default pipeline: short answers a
 *   micro-model can copy from its context (the wine's variety, country, taster, points, price, and
 *   the wine described by a sentence), up to `--per-wine` of them per wine (default all six kinds),
 *   `--count` in all (default 3000). Each question carries `wine` (the row key) so the pipeline can
 *   split by wine (`ingest.questions.group_field: wine`): no test wine is seen in training.
 *
 * --source must be the CSV path exactly as the pipeline file writes it, and --id-column its
 * id_column ('none' when the pipeline has none): chunk ids hash both, so gold ids only match
 * chunks ingested with the same settings. The output depends only on the CSV and the flags.
 */
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { csvRowChunkId, decodeUtf8, parseCsvText, unitHash } from '@ragrpo/ingest';

export interface WineQuestion {
  id: string;
  question: string;
  reference: string;
  gold_chunk_ids: string[];
  kind: 'describe' | 'taster' | 'score';
}

/** A question of the learning set (`--set qa`): a short answer, and the wine it is about. */
export interface WineQaQuestion {
  id: string;
  question: string;
  reference: string;
  gold_chunk_ids: string[];
  kind: WineQaKind;
  /** The row key of the wine (its id column, or its position): what the split groups by. */
  wine: string;
}

/**
 * The learning set's kinds, in the order a wine's questions are asked. Every answer is a span of the
 * gold chunk (a CSV column the pipeline's row template writes: variety, country, taster_name, points,
 * price), one to three words, or for `describe` the title (which opens the default pipeline's chunk).
 */
export const WINE_QA_KINDS = ['variety', 'country', 'taster', 'points', 'price', 'describe'] as const;
export type WineQaKind = (typeof WINE_QA_KINDS)[number];

export interface WineQaOptions extends WineQuestionOptions {
  /** Questions per wine at most (kinds taken in turn, starting where the previous wine stopped); default all. */
  perWine?: number;
  /** Kinds to ask (default all of WINE_QA_KINDS). */
  kinds?: readonly WineQaKind[];
}

export interface WineQuestionOptions {
  /** The CSV path as the pipeline file writes it (part of the chunk id). */
  source: string;
  /** The pipeline's id_column, or undefined when rows are keyed by position. */
  idColumn?: string;
  count: number;
  seed: number;
}

/** The first sentence of a review, when it is long enough to identify a wine. */
function firstSentence(description: string): string | null {
  const s = description.trim().split(/(?<=[.!?])\s+/)[0];
  return s.length >= 40 ? s : null;
}

/**
 * Picks rows by a seeded hash of their key (a stable order that does not depend on the PRNG
 * walking the file) and asks one of three kinds of question about each, skipping rows whose
 * title or opening sentence is not unique, so each question has exactly one gold chunk.
 */
export function generateWineQuestions(csvText: string, file: string, opts: WineQuestionOptions): WineQuestion[] {
  const { records } = parseCsvText(csvText, file);
  const count = (key: (v: Record<string, string>) => string | null) => {
    const m = new Map<string, number>();
    for (const r of records) { const k = key(r.values); if (k) m.set(k, (m.get(k) ?? 0) + 1); }
    return m;
  };
  const titles = count((v) => v.title.trim());
  const openings = count((v) => firstSentence(v.description));
  const keyOf = (r: (typeof records)[number]) => (opts.idColumn ? r.values[opts.idColumn].trim() : String(r.position));
  const order = records
    .filter((r) => titles.get(r.values.title.trim()) === 1)
    .map((r) => ({ r, u: unitHash(opts.seed, `wine-question:${keyOf(r)}`) }))
    .sort((a, b) => a.u - b.u);
  const out: WineQuestion[] = [];
  for (const { r } of order) {
    if (out.length >= opts.count) break;
    const v = r.values;
    const title = v.title.trim();
    const gold = [csvRowChunkId(opts.source, keyOf(r))];
    const kind = (['describe', 'taster', 'score'] as const)[out.length % 3];
    const opening = firstSentence(v.description);
    let q: Omit<WineQuestion, 'id' | 'gold_chunk_ids'> | null = null;
    if (kind === 'describe' && opening && openings.get(opening) === 1) {
      q = { kind, question: `Which wine is described as: "${opening}"?`, reference: title };
    } else if (kind === 'taster' && v.taster_name.trim()) {
      q = { kind, question: `What does ${v.taster_name.trim()} say about ${title}?`, reference: v.description.trim() };
    } else if (kind === 'score' && v.points.trim()) {
      const price = v.price.trim() ? ` and costs $${v.price.trim()}` : ' (no price is listed)';
      q = { kind, question: `How many points did ${title} score, and what does it cost?`, reference: `${title} scored ${v.points.trim()} points${price}.` };
    }
    if (!q) continue;
    out.push({ id: `wine-q${String(out.length + 1).padStart(3, '0')}`, question: q.question, reference: q.reference, gold_chunk_ids: gold, kind: q.kind });
  }
  return out;
}

/** Opening sentences longer than this are not asked about: the question is part of every prompt. */
const MAX_QA_OPENING = 160;

/**
 * The learning set: wines in the same seeded hash order as the classic set (rows with a unique
 * title), and for each wine its questions of `kinds` that have an answer (a taster, a price, a
 * unique opening sentence), `perWine` at most, until `count` questions.
 */
export function generateWineQa(csvText: string, file: string, opts: WineQaOptions): WineQaQuestion[] {
  const { records } = parseCsvText(csvText, file);
  const kinds = opts.kinds ?? WINE_QA_KINDS;
  const perWine = Math.min(opts.perWine ?? kinds.length, kinds.length);
  const tally = (key: (v: Record<string, string>) => string | null) => {
    const m = new Map<string, number>();
    for (const r of records) { const k = key(r.values); if (k) m.set(k, (m.get(k) ?? 0) + 1); }
    return m;
  };
  const titles = tally((v) => v.title.trim());
  const openings = tally((v) => firstSentence(v.description));
  const keyOf = (r: (typeof records)[number]) => (opts.idColumn ? r.values[opts.idColumn].trim() : String(r.position));
  const order = records
    .filter((r) => titles.get(r.values.title.trim()) === 1)
    .map((r) => ({ r, u: unitHash(opts.seed, `wine-question:${keyOf(r)}`) }))
    .sort((a, b) => a.u - b.u);
  const out: WineQaQuestion[] = [];
  let turn = 0; // where the next wine starts in `kinds`, so a small perWine still covers every kind
  for (const { r } of order) {
    if (out.length >= opts.count) break;
    const v = r.values;
    const title = v.title.trim();
    const wine = keyOf(r);
    const gold = [csvRowChunkId(opts.source, wine)];
    const opening = firstSentence(v.description);
    const field = (value: string, question: string) => (value.trim() ? { question, reference: value.trim() } : null);
    const ask = (kind: WineQaKind): { question: string; reference: string } | null => {
      switch (kind) {
        case 'variety': return field(v.variety, `What is the variety of ${title}?`);
        case 'country': return field(v.country, `Which country is ${title} from?`);
        case 'taster': return field(v.taster_name, `Who tasted ${title}?`);
        case 'points': return field(v.points, `How many points did ${title} score?`);
        case 'price': return field(v.price, `What is the price of ${title}?`);
        case 'describe':
          return opening && opening.length <= MAX_QA_OPENING && openings.get(opening) === 1
            ? { question: `Which wine is described as: "${opening}"?`, reference: title } : null;
      }
    };
    let asked = 0;
    for (let i = 0; i < kinds.length && asked < perWine && out.length < opts.count; i++) {
      const kind = kinds[(turn + i) % kinds.length];
      const q = ask(kind);
      if (!q) continue;
      out.push({ id: `wine-qa-${wine}-${kind}`, question: q.question, reference: q.reference, gold_chunk_ids: gold, kind, wine });
      asked++;
    }
    turn = (turn + perWine) % kinds.length;
  }
  return out;
}

async function main(): Promise<void> {
  const root = process.env.NX_WORKSPACE_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const args = process.argv.slice(2);
  const arg = (name: string, def: string) => { const i = args.indexOf(`--${name}`); return i >= 0 && args[i + 1] ? args[i + 1] : def; };
  const set = arg('set', 'classic');
  if (set !== 'classic' && set !== 'qa') throw new Error(`--set ${set}: choose classic (datasets/wine-questions.jsonl) or qa (datasets/wine-qa.jsonl)`);
  const source = arg('source', '../shared/datasets/wine-reviews/winemag-data-130k-v2.sample.csv');
  const csv = path.resolve(root, arg('csv', source));
  const idColumn = arg('id-column', 'id');
  const outFile = path.resolve(root, arg('out', set === 'qa' ? 'datasets/wine-qa.jsonl' : 'datasets/wine-questions.jsonl'));
  const base = { source, idColumn: idColumn === 'none' ? undefined : idColumn, seed: Number(arg('seed', '0')) };
  const text = decodeUtf8(await readFile(csv), csv);
  const perWine = arg('per-wine', '');
  const questions: object[] = set === 'qa'
    ? generateWineQa(text, csv, { ...base, count: Number(arg('count', '3000')), perWine: perWine ? Number(perWine) : undefined })
    : generateWineQuestions(text, csv, { ...base, count: Number(arg('count', '120')) });
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, questions.map((q) => JSON.stringify(q)).join('\n') + '\n');
  process.stderr.write(`wrote ${questions.length} questions to ${path.relative(root, outFile)} (gold ids for source '${source}', id_column ${idColumn})\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
