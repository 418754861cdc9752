import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fetchCommandFor, loadPipeline, type EmbedConfig, type IndexConfig } from '@ragrpo/config';
import { Chunks, tableFromRows } from '@ragrpo/contracts';
import { embedTextSets, type TextSet } from '@ragrpo/embed';
import { questionRetrieval, summarizeRetrieval } from '@ragrpo/evaluate';
import { runIndex, type IndexInputs } from '@ragrpo/index';
import { runIngest } from '@ragrpo/ingest';
import type { Table } from 'apache-arrow';
import type { Metrics } from './report.ts';

// Retrieval quality on the wine questions: recall@5 and MRR (first gold chunk, over the top 10)
// for BM25 (index.search: sparse), all-MiniLM-L6-v2 (dense) and both fused (hybrid, RRF), each
// through the product's own code: ingest's runIngest, embed's embedTextSets, index's runIndex and
// evaluate's questionRetrieval/summarizeRetrieval (the numbers evaluate's report shows).
// The settings are those of pipelines/wine-smollm2.yaml (the pipeline that uses the real
// embedder): its row template, BM25 and MiniLM settings, rrf_k and prefetch. Only the store is
// forced to the embedded one, so a QDRANT_URL in the environment does not change the figures.
//
//   RAGRPO_BENCH_QUALITY_QUESTIONS  a questions file instead of the pipeline's (e.g. datasets/wine-qa.jsonl)

const MINILM_FETCH = fetchCommandFor('all-minilm-l6-v2')!;
const METHODS = ['bm25', 'dense', 'hybrid'] as const;
type Method = (typeof METHODS)[number];
/** evaluate's retrieved-row shape (not exported by name). */
type RetrievedRow = Parameters<typeof questionRetrieval>[1][number];
const SEARCH: Record<Method, IndexConfig['search']> = { bm25: 'sparse', dense: 'dense', hybrid: 'hybrid' };

export interface QualityOptions {
  root: string;
  /** Default pipelines/wine-smollm2.yaml. */
  pipeline?: string;
  /** Questions file (as the pipeline writes paths: relative to root); default the pipeline's. */
  questions?: string;
  /** recall@k (default 5). */
  k?: number;
  /** Chunks retrieved per question, the depth of MRR (default 10). */
  depth?: number;
  log?: (line: string) => void;
}

export async function retrievalQualityBench(o: QualityOptions): Promise<Metrics> {
  const { root } = o;
  const k = o.k ?? 5, depth = o.depth ?? 10;
  const log = o.log ?? ((l: string) => console.error(`[bench retrieval] quality: ${l}`));
  const started = performance.now();
  const loadStart = os.loadavg()[0];
  const pipelineFile = o.pipeline ?? path.join(root, 'pipelines', 'wine-smollm2.yaml');
  const { config } = loadPipeline(pipelineFile);
  const questionsCfg = config.ingest.questions;
  if (!questionsCfg) throw new Error(`${pipelineFile}: no ingest.questions; the quality benchmark needs questions with gold_chunk_ids`);
  const dense = config.embed.dense;
  if (!dense) throw new Error(`${pipelineFile}: no embed.dense; the quality benchmark takes the MiniLM settings from it`);
  const sparse = config.embed.sparse;
  if (!sparse) throw new Error(`${pipelineFile}: no embed.sparse; the quality benchmark takes the BM25 settings from it`);

  // Ingest: the documents and questions only (no POVs, no preferences).
  const questionsPath = o.questions ?? process.env.RAGRPO_BENCH_QUALITY_QUESTIONS ?? questionsCfg.path;
  const ingestCfg = { ...config.ingest, questions: { ...questionsCfg, path: questionsPath }, povs: undefined, preferences: undefined };
  const ingest = await runIngest(ingestCfg, { seed: config.seed, resolve: (p) => path.resolve(root, p), warn: (m) => log(`ingest: ${m}`) });
  const q = ingest.report.questions;
  if (!ingest.questions || !q) throw new Error(`${questionsPath}: ingest wrote no questions`);
  if (q.unknown_gold_ids > 0) {
    throw new Error(`${questionsPath}: ${q.unknown_gold_ids} gold chunk ids name no chunk of ${path.relative(root, pipelineFile)}'s ingest: the figures would be wrong (regenerate with tools/datasets/wine-questions.ts)`);
  }
  const gold = ingest.questions.filter((r) => r.gold_chunk_ids.length > 0);
  if (gold.length === 0) throw new Error(`${questionsPath}: no question has gold_chunk_ids`);
  log(`${gold.length} of ${ingest.questions.length} questions (${questionsPath}) have a gold chunk; ${ingest.chunks.length} chunks`);

  // Embed: BM25 always; MiniLM when its folder is there.
  const minilm = path.resolve(root, dense.model);
  const haveMinilm = existsSync(minilm);
  if (!haveMinilm) log(`dense and hybrid SKIPPED: no ${path.relative(root, minilm)} (run ${MINILM_FETCH}); BM25 only`);
  const embedCfg: EmbedConfig = { ...config.embed, dense: haveMinilm ? dense : undefined };
  const sets: TextSet[] = [
    { name: 'chunks', role: 'document', ids: ingest.chunks.map((c) => c.chunk_id), texts: ingest.chunks.map((c) => c.text) },
    { name: 'questions', role: 'query', ids: gold.map((r) => r.question_id), texts: gold.map((r) => r.question) },
  ];
  if (haveMinilm) log(`embedding ${ingest.chunks.length} chunks and ${gold.length} questions with ${dense.model} (batch ${dense.batch_size}; minutes on 2 cores)`);
  const tEmbed = performance.now();
  const embedded = await embedTextSets(sets, embedCfg, { root });
  const embedSeconds = (performance.now() - tEmbed) / 1000;
  log(embedded.summary);
  const table = (artifact: string): Table | undefined => embedded.tables.find((t) => t.artifact === artifact)?.table;
  const inputs: IndexInputs = {
    chunks: tableFromRows(Chunks, ingest.chunks),
    chunkDense: table('chunks_dense'), questionDense: table('questions_dense'),
    chunkSparse: table('chunks_sparse'), questionSparse: table('questions_sparse'),
  };

  // Index + search, once per method, then evaluate's retrieval metrics over the retrieved order.
  const results: Partial<Record<Method, { recall: number; mrr: number; seconds: number }>> = {};
  const storeDir = mkdtempSync(path.join(os.tmpdir(), 'ragrpo-bench-quality-'));
  try {
    for (const method of METHODS) {
      if (method !== 'bm25' && !haveMinilm) continue;
      const indexCfg: IndexConfig = { ...config.index, store: 'embedded', search: SEARCH[method], top_k: depth };
      const t = performance.now();
      const { retrieved } = await runIndex(inputs, indexCfg, { pipelineName: 'bench-quality', storeDir: path.join(storeDir, method), sink: () => undefined });
      const seconds = (performance.now() - t) / 1000;
      const rows: RetrievedRow[] = retrieved.toArray().map((r: { question_id: string; rank: number; chunk_id: string }) => ({
        question_id: r.question_id, rank: Number(r.rank), chunk_id: r.chunk_id,
      }));
      const per = questionRetrieval(gold, rows, [], []);
      const s = summarizeRetrieval(per, [k]);
      if (!s || s.questions !== gold.length || !s.ks.includes(k)) throw new Error(`quality ${method}: evaluate summarised ${s?.questions ?? 0} of ${gold.length} questions at k ${s?.ks.join(',')}`);
      results[method] = { recall: s.index.recall[k], mrr: s.index.mrr, seconds };
    }
  } finally {
    rmSync(storeDir, { recursive: true, force: true });
  }

  const totalSeconds = (performance.now() - started) / 1000;
  const loadEnd = os.loadavg()[0];
  printTable(results, gold.length, k, depth, haveMinilm ? null : path.relative(root, minilm), log);

  const settings = `${gold.length} wine questions with a gold chunk, ${ingest.chunks.length} chunks, ${path.relative(root, pipelineFile)} settings`;
  const metrics: Metrics = { 'quality.questions': { value: gold.length, unit: 'questions', note: `${questionsPath}, those with gold_chunk_ids` } };
  for (const method of METHODS) {
    const r = results[method];
    if (r) {
      metrics[`quality.${method}.recall_at_${k}`] = { value: r.recall, unit: 'share', note: `gold chunks in the top ${k} (${SEARCH[method]} search), ${settings}` };
      metrics[`quality.${method}.mrr_at_${depth}`] = { value: r.mrr, unit: 'share', note: `mean 1/rank of the first gold chunk in the top ${depth}, 0 when not retrieved` };
      metrics[`quality.${method}.index_search_s`] = { value: r.seconds, unit: 's', note: `runIndex: upsert ${ingest.chunks.length} chunks + ${gold.length} queries` };
    } else {
      metrics[`quality.${method}.skipped`] = { value: 1, unit: 'flag', note: `no ${path.relative(root, minilm)}: run ${MINILM_FETCH}` };
    }
  }
  metrics['quality.embed_s'] = {
    value: embedSeconds, unit: 's',
    note: haveMinilm ? `BM25 + ${dense.model} over ${ingest.chunks.length} chunks and ${gold.length} questions` : `BM25 only over ${ingest.chunks.length} chunks and ${gold.length} questions`,
  };
  if (haveMinilm) metrics['quality.dense.embed_rate'] = { value: (ingest.chunks.length + gold.length) / embedSeconds, unit: 'texts/s', note: 'BM25 included (well under a second of it)' };
  metrics['quality.seconds'] = { value: totalSeconds, unit: 's', note: 'the whole quality part: ingest, embed, three index runs' };
  metrics['quality.load_avg_1m.start'] = { value: loadStart, unit: 'procs', note: 'load average when the quality part started (2 = both cores busy)' };
  metrics['quality.load_avg_1m.end'] = { value: loadEnd, unit: 'procs' };
  return metrics;
}

function printTable(results: Partial<Record<Method, { recall: number; mrr: number }>>, questions: number, k: number, depth: number, missingModel: string | null, log: (l: string) => void): void {
  const head = ['method', `recall@${k}`, `MRR@${depth}`];
  const rows = METHODS.map((m) => {
    const r = results[m];
    return r ? [m, r.recall.toFixed(3), r.mrr.toFixed(3)] : [m, 'skipped', 'skipped'];
  });
  const w = head.map((_, i) => Math.max(...[head, ...rows].map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  log(`${questions} questions, top ${depth} retrieved per question:`);
  for (const r of [head, w.map((n) => '-'.repeat(n)), ...rows]) log(`  ${line(r)}`);
  if (missingModel) log(`  (dense and hybrid need ${missingModel}: run ${MINILM_FETCH})`);
}
