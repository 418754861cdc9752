import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Metrics } from './report.ts';
import { bm25Bench, ingestBench, readWineQuestions } from './retrieval-bm25.ts';
import { denseTopKBench } from './retrieval-dense.ts';
import { nxBench } from './retrieval-nx.ts';
import { retrievalQualityBench } from './retrieval-quality.ts';

// Suite `retrieval`: ingest, BM25, exact dense top-k, Nx caching and retrieval quality (recall@5 and
// MRR@10 of BM25, MiniLM dense and hybrid on the wine questions), each measured in this one run.
//   RAGRPO_BENCH_ONLY  comma list of parts to run (ingest, bm25, dense, nx, quality; default all),
//                      e.g. RAGRPO_BENCH_ONLY=quality npm run bench -- retrieval. bm25 runs ingest too
//                      (it indexes ingest's chunks). artifacts/bench/retrieval.json then holds only those parts.
const root = path.resolve(import.meta.dirname, '../..');
const PARTS = ['ingest', 'bm25', 'dense', 'nx', 'quality'] as const;
type Part = (typeof PARTS)[number];

function selectedParts(value = process.env.RAGRPO_BENCH_ONLY): Set<Part> {
  if (!value?.trim()) return new Set(PARTS);
  const wanted = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const w of wanted) {
    if (!(PARTS as readonly string[]).includes(w)) throw new Error(`RAGRPO_BENCH_ONLY: unknown part '${w}' (choose from ${PARTS.join(', ')})`);
  }
  return new Set(wanted as Part[]);
}

export async function retrievalSuite(): Promise<Metrics> {
  const parts = selectedParts();
  const csv = path.resolve(root, '..', 'shared', 'datasets', 'wine-reviews', 'winemag-data-130k-v2.sample.csv');
  const questionsFile = path.join(root, 'datasets', 'wine-questions.jsonl');
  for (const f of [csv, questionsFile]) {
    if (!existsSync(f)) throw new Error(`${f}: not found; the retrieval benchmark needs the wine sample (../shared/datasets) and datasets/wine-questions.jsonl`);
  }
  const step = (what: string) => console.error(`[bench retrieval] ${what}`);
  let metrics: Metrics = {};

  if (parts.has('ingest') || parts.has('bm25')) {
    step('ingest');
    const ingest = await ingestBench(root, csv, 5);
    metrics = { ...metrics, ...ingest.metrics };
    if (parts.has('bm25')) {
      step('bm25');
      metrics = { ...metrics, ...await bm25Bench(ingest.chunks, readWineQuestions(questionsFile), 10, 5) };
    }
  }
  if (parts.has('dense')) {
    step('dense top-k (the naive loop takes a while)');
    metrics = { ...metrics, ...denseTopKBench({ rows: 100_000, dim: 384, queries: 64, k: 10, seed: 42, runs: 3 }) };
  }
  if (parts.has('nx')) {
    step('nx');
    metrics = { ...metrics, ...nxBench(root) };
  }
  if (parts.has('quality')) {
    step('quality: recall@5 and MRR@10 of bm25, dense (all-MiniLM-L6-v2) and hybrid on the wine questions');
    metrics = { ...metrics, ...await retrievalQualityBench({ root, k: 5, depth: 10 }) };
  }
  return metrics;
}
