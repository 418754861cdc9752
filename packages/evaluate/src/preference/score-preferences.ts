import { PreferencePredictions, tableFromRows } from '@ragrpo/contracts';
import type { Table } from 'apache-arrow';
import { toCsv } from '../results/csv.ts';
import { cutOff, sideText } from './cut-off.ts';
import { predictedClass, predictPreference, preferenceMetrics, type PreferenceMetrics, type Winner } from './predict.ts';
import { scorePairsInReplicas } from './replicas.ts';
import type { PairSides, ScorerConfig } from './scorer.ts';

export interface PreferenceRow {
  pair_id: string;
  prompt: string[];
  response_a: string[];
  response_b: string[];
  winner: Winner | null;
}

export interface PreferenceResult {
  table: Table;
  /** Seed 004's submission: id, winner_model_a, winner_model_b, winner_tie. */
  submission: string;
  /** null when no pair is labelled. */
  metrics: PreferenceMetrics | null;
  pairs: number;
  labelled: number;
  /** Pairs the scorer failed on (predicted uniform), and the first messages. */
  errors: number;
  errorMessages: string[];
  /** Pairs whose first turn alone was over the character budget (cut inside the turn). */
  cutInsideTurn: number;
  /** Pairs that lost later turns to the budget. */
  turnsDropped: number;
}

/**
 * Seed 004 end to end: each pair cut to the character budget (whole turns from the front), both
 * sides scored by the replicas, the tie-threshold / softmax rule, the submission table, and log
 * loss and accuracy over the labelled pairs.
 */
export async function scorePreferences(
  rows: PreferenceRow[], scorer: ScorerConfig,
  o: { tieThreshold: number; maxChars: number; replicas: number; batchSize: number; onPairs?: (n: number) => void },
): Promise<PreferenceResult> {
  const cut = rows.map((r) => cutOff(r, o.maxChars));
  const pairs: PairSides[] = rows.map((r, i) => ({ id: r.pair_id, a: sideText(cut[i].prompt, cut[i].response_a), b: sideText(cut[i].prompt, cut[i].response_b) }));
  const scored = await scorePairsInReplicas(scorer, pairs, { replicas: o.replicas, batchSize: o.batchSize, onPairs: o.onPairs });
  const predictions = scored.scores.map(([a, b]) => predictPreference(a, b, o.tieThreshold));
  const labels = rows.map((r) => r.winner);
  const table = tableFromRows(PreferencePredictions, rows.map((r, i) => ({
    pair_id: r.pair_id,
    score_a: scored.scores[i][0], score_b: scored.scores[i][1],
    winner_model_a: predictions[i][0], winner_model_b: predictions[i][1], winner_tie: predictions[i][2],
    predicted: predictedClass(predictions[i]), winner: r.winner,
    turns: r.prompt.length, turns_kept: cut[i].turnsKept, chars_kept: cut[i].chars, replica: scored.replica[i],
  })));
  const submission = toCsv(['id', 'winner_model_a', 'winner_model_b', 'winner_tie'], rows.map((r, i) => [r.pair_id, ...predictions[i]]));
  return {
    table, submission,
    metrics: preferenceMetrics(predictions, labels),
    pairs: rows.length,
    labelled: labels.filter((l) => l).length,
    errors: scored.scores.filter(([a, b]) => a === null || b === null).length,
    errorMessages: scored.errors,
    cutInsideTurn: cut.filter((c) => c.turnsKept === 0).length,
    turnsDropped: cut.filter((c, i) => c.turnsKept > 0 && c.turnsKept < rows[i].prompt.length).length,
  };
}
