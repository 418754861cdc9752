/**
 * Generates datasets/wine-questions.jsonl: questions about rows of the wine-review sample, each
 * with a reference answer and the chunk id ingest gives that row (its gold chunk), for the wine
 * pipeline (seed 000) and retrieval metrics.
 *
 *   npx tsx tools/datasets/wine-questions.ts [--csv PATH] [--source PATH] [--id-column id|none] [--count 120] [--seed 0] [--out datasets/wine-questions.jsonl]
 *
 * --source must be the CSV path exactly as the pipeline file writes it, and --id-column its
 * id_column ('none' when the pipeline has none): chunk ids hash both, so gold ids only match
 * chunks ingested with the same settings.
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

async function main(): Promise<void> {
  const root = process.env.NX_WORKSPACE_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const args = process.argv.slice(2);
  const arg = (name: string, def: string) => { const i = args.indexOf(`--${name}`); return i >= 0 && args[i + 1] ? args[i + 1] : def; };
  const source = arg('source', '../shared/datasets/wine-reviews/winemag-data-130k-v2.sample.csv');
  const csv = path.resolve(root, arg('csv', source));
  const idColumn = arg('id-column', 'id');
  const outFile = path.resolve(root, arg('out', 'datasets/wine-questions.jsonl'));
  const questions = generateWineQuestions(decodeUtf8(await readFile(csv), csv), csv, {
    source, idColumn: idColumn === 'none' ? undefined : idColumn, count: Number(arg('count', '120')), seed: Number(arg('seed', '0')),
  });
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, questions.map((q) => JSON.stringify(q)).join('\n') + '\n');
  process.stderr.write(`wrote ${questions.length} questions to ${path.relative(root, outFile)} (gold ids for source '${source}', id_column ${idColumn})\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
