import { findColumn, inferFormat, readRecords, textOf } from './read-records.ts';
import { parseTurns } from './turns.ts';
import type { PreferenceRow } from './types.ts';

export interface PreferenceOptions {
  file: string;
  source: string;
  format?: 'jsonl' | 'csv';
  limit?: number;
}

const WINNER_WORDS: Record<string, PreferenceRow['winner']> = {
  model_a: 'model_a', a: 'model_a', winner_model_a: 'model_a',
  model_b: 'model_b', b: 'model_b', winner_model_b: 'model_b',
  tie: 'tie', 'tie (bothbad)': 'tie', winner_tie: 'tie', draw: 'tie',
};

const ONE_HOT = ['winner_model_a', 'winner_model_b', 'winner_tie'] as const;

/**
 * Pairwise preferences (seed 004): prompt, response_a, response_b as turn lists, and the label
 * either as a `winner` column or LMSYS's one-hot winner_model_a / winner_model_b / winner_tie.
 * No label columns at all means an unlabelled set (a Kaggle test.csv): winner is null.
 */
export async function readPreferences(opts: PreferenceOptions): Promise<PreferenceRow[]> {
  const format = inferFormat(opts.file, ['jsonl', 'csv'], opts.format);
  const set = await readRecords(opts.file, format);
  const prompt = findColumn(set, 'prompt', 'prompt turns');
  const ra = findColumn(set, 'response_a', "model A's turns");
  const rb = findColumn(set, 'response_b', "model B's turns");
  const idCol = set.columns.find((c) => c.toLowerCase() === 'id');
  const winnerCol = set.columns.find((c) => c.toLowerCase() === 'winner');
  const oneHot = ONE_HOT.map((c) => set.columns.find((x) => x.toLowerCase() === c));
  const oneHotCols = oneHot.every((c) => c) ? (oneHot as string[]) : null;
  if (!winnerCol && oneHot.some((c) => c) && !oneHot.every((c) => c)) {
    throw new Error(`${set.where}: one-hot labels need all of ${ONE_HOT.join(', ')}; found only ${oneHot.filter((c) => c).join(', ')}`);
  }
  const seen = new Map<string, string>();
  return set.records.slice(0, opts.limit ?? Infinity).map((r) => {
    const id = idCol ? textOf(r.values[idCol]) : `pair-${r.position}`;
    if (!id) throw new Error(`${r.at}: the id is empty`);
    if (seen.has(id)) throw new Error(`${r.at}: pair id '${id}' already used at ${seen.get(id)}`);
    seen.set(id, r.at);
    let winner: PreferenceRow['winner'] = null;
    if (winnerCol) {
      const w = textOf(r.values[winnerCol]).toLowerCase();
      if (w) {
        winner = WINNER_WORDS[w] ?? null;
        if (!winner) throw new Error(`${r.at}: winner '${w}' is not one of model_a, model_b, tie`);
      }
    } else if (oneHotCols) {
      const flags = oneHotCols.map((c) => flag(r.values[c], r.at, c));
      const n = flags.filter((f) => f).length;
      if (n !== 1) throw new Error(`${r.at}: exactly one of ${ONE_HOT.join(', ')} must be 1, found ${n}`);
      winner = (['model_a', 'model_b', 'tie'] as const)[flags.indexOf(true)];
    }
    const pair: PreferenceRow = {
      pair_id: id,
      prompt: parseTurns(r.values[prompt], r.at, prompt),
      response_a: parseTurns(r.values[ra], r.at, ra),
      response_b: parseTurns(r.values[rb], r.at, rb),
      winner,
      source: opts.source,
    };
    if (pair.prompt.length === 0) throw new Error(`${r.at}: the prompt has no turns`);
    return pair;
  });
}

function flag(v: unknown, at: string, col: string): boolean {
  const s = textOf(v).toLowerCase();
  if (s === '1' || s === 'true' || s === '1.0') return true;
  if (s === '0' || s === 'false' || s === '0.0' || s === '') return false;
  throw new Error(`${at}: ${col} is '${s}', expected 0 or 1`);
}
