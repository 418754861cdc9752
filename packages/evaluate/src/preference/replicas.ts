import { Worker } from 'node:worker_threads';
import { createScorer, scorePairs, type PairSides, type ScorerConfig } from './scorer.ts';

export interface ReplicaResult {
  scores: [number | null, number | null][];
  /** Which replica scored each pair. */
  replica: number[];
  errors: string[];
}

function runReplica(config: ScorerConfig, pairs: PairSides[], batchSize: number, onPairs: (n: number) => void): Promise<Omit<ReplicaResult, 'replica'>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./replica-worker-entry.mjs', import.meta.url), { workerData: { config, pairs, batchSize } });
    let settled = false;
    worker.on('message', (m: { type: string; n?: number; message?: string; scores?: [number | null, number | null][]; errors?: string[] }) => {
      if (m.type === 'progress') onPairs(m.n ?? 0);
      else if (m.type === 'done') { settled = true; resolve({ scores: m.scores ?? [], errors: m.errors ?? [] }); }
      else if (m.type === 'error') { settled = true; reject(new Error(m.message)); }
    });
    worker.on('error', (e) => { if (!settled) { settled = true; reject(e); } });
    worker.on('exit', (code) => { if (!settled) reject(new Error(`a preference scorer replica exited with code ${code} before it finished`)); });
  });
}

/**
 * Scores every pair across `replicas` worker threads, each with its own scorer: replica r takes
 * pairs r, r + R, r + 2R, ... (seed 004 gives rows 0::2 and 1::2 to its two models) and the scores
 * come back in the pairs' order. One replica (or fewer pairs than replicas) runs in this thread.
 */
export async function scorePairsInReplicas(
  config: ScorerConfig, pairs: PairSides[], o: { replicas: number; batchSize: number; onPairs?: (n: number) => void },
): Promise<ReplicaResult> {
  const R = Math.max(1, Math.min(o.replicas, pairs.length));
  const onPairs = o.onPairs ?? (() => undefined);
  if (R === 1) {
    const scorer = await createScorer(config);
    try {
      const r = await scorePairs(scorer, pairs, o.batchSize, onPairs);
      return { ...r, replica: pairs.map(() => 0) };
    } finally {
      await scorer.release();
    }
  }
  const shares = Array.from({ length: R }, (_, r) => pairs.filter((_, i) => i % R === r));
  const results = await Promise.all(shares.map((share) => runReplica(config, share, o.batchSize, onPairs)));
  const scores: ReplicaResult['scores'] = [];
  const replica: number[] = [];
  pairs.forEach((_, i) => {
    scores.push(results[i % R].scores[Math.floor(i / R)]);
    replica.push(i % R);
  });
  return { scores, replica, errors: results.flatMap((r) => r.errors) };
}
