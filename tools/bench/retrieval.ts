import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Metrics } from './report.ts';
import { bm25Bench, ingestBench, readWineQuestions } from './retrieval-bm25.ts';
import { denseTopKBench } from './retrieval-dense.ts';
import { nxBench } from './retrieval-nx.ts';

// Suite `retrieval`: ingest, BM25, exact dense top-k and Nx caching, each measured in this one run.
const root = path.resolve(import.meta.dirname, '../..');

export async function retrievalSuite(): Promise<Metrics> {
  const csv = path.resolve(root, '..', 'shared', 'datasets', 'wine-reviews', 'winemag-data-130k-v2.sample.csv');
  const questionsFile = path.join(root, 'datasets', 'wine-questions.jsonl');
  for (const f of [csv, questionsFile]) {
    if (!existsSync(f)) throw new Error(`${f}: not found; the retrieval benchmark needs the wine sample (../shared/datasets) and datasets/wine-questions.jsonl`);
  }
  const step = (what: string) => console.error(`[bench retrieval] ${what}`);

  step('ingest');
  const ingest = await ingestBench(root, csv, 5);
  step('bm25');
  const bm25 = await bm25Bench(ingest.chunks, readWineQuestions(questionsFile), 10, 5);
  step('dense top-k (the naive loop takes a while)');
  const dense = denseTopKBench({ rows: 100_000, dim: 384, queries: 64, k: 10, seed: 42, runs: 3 });
  step('nx');
  const nx = nxBench(root);
  return { ...ingest.metrics, ...bm25, ...dense, ...nx };
}
