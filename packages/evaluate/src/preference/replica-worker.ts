import { parentPort, workerData } from 'node:worker_threads';
import { createScorer, scorePairs, type PairSides, type ScorerConfig } from './scorer.ts';

// One scorer replica (seed 004 runs one model per GPU, two in parallel): builds its own scorer,
// scores its share of the pairs and reports progress, then its scores, to the main thread.
const { config, pairs, batchSize } = workerData as { config: ScorerConfig; pairs: PairSides[]; batchSize: number };
if (!parentPort) throw new Error('replica-worker.ts runs as a worker thread (scorePairsInReplicas starts it)');
const port = parentPort;
try {
  const scorer = await createScorer(config);
  try {
    const result = await scorePairs(scorer, pairs, batchSize, (n) => port.postMessage({ type: 'progress', n }));
    port.postMessage({ type: 'done', ...result });
  } finally {
    await scorer.release();
  }
} catch (err) {
  port.postMessage({ type: 'error', message: (err as Error).message });
}
