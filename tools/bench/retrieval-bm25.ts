import { readFileSync } from 'node:fs';
import path from 'node:path';
import { IngestSection, EmbedSection } from '@ragrpo/config';
import { runIngest, type ChunkRow } from '@ragrpo/ingest';
import { builtinStopwords, createAnalyzer, fitBm25, bm25DocumentVectorFromTerms, bm25QueryVector, type Bm25 } from '@ragrpo/embed';
import { EmbeddedStore } from '@ragrpo/index';
import type { Metrics } from './report.ts';
import { median, percentile } from './retrieval-stats.ts';

/** The default pipeline's wine document source (seed 000's row template). */
export function wineIngestSection(csv: string) {
  return IngestSection.parse({
    documents: [{
      kind: 'csv', path: csv, id_column: 'id', on_bad_row: 'skip',
      template: '{title} ({variety}, {country}, {province}). {description} Points: {points}. Price: {price}. Winery: {winery}.',
    }],
  });
}

/** Ingest throughput: CSV parse + row template + chunk ids, median of `runs` after a warm-up. */
export async function ingestBench(root: string, csv: string, runs: number): Promise<{ metrics: Metrics; chunks: ChunkRow[] }> {
  const cfg = wineIngestSection(csv);
  const ctx = { seed: 0, resolve: (p: string) => path.resolve(root, p), warn: () => undefined };
  let result = await runIngest(cfg, ctx);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    result = await runIngest(cfg, ctx);
    times.push(performance.now() - t);
  }
  const rows = result.report.documents.reduce((n, d) => n + (d.records ?? 0), 0);
  const ms = median(times);
  return {
    chunks: result.chunks,
    metrics: { 'ingest wine CSV': { value: rows / (ms / 1000), unit: 'rows/s', note: `${rows} rows, median of ${runs}` } },
  };
}

/**
 * BM25 the way embed + index do it: analyse every chunk once, fit, document vectors, upsert into
 * the embedded store and build its inverted index (a search with no queries forces the build,
 * which the store otherwise does lazily on the first search). Query latency is one question at a
 * time, analysis included, as a caller asking a single question sees it.
 */
export async function bm25Bench(chunks: readonly ChunkRow[], questions: readonly string[], k: number, passes: number): Promise<Metrics> {
  // The pipeline's BM25 defaults (k1, b, english stop words, stemming).
  const s = EmbedSection.parse({ sparse: {} }).sparse;
  if (!s) throw new Error('embed.sparse defaults did not parse');
  const stopwords = builtinStopwords(s.language);
  let bm!: Bm25;
  let store!: EmbeddedStore;
  const build = async () => {
    const analyze = createAnalyzer({ language: s.language, stem: s.stem, stopwords });
    const terms = chunks.map((c) => analyze(c.text));
    bm = fitBm25(terms, { k1: s.k1, b: s.b, language: s.language, stem: s.stem, stopwords });
    const points = chunks.map((c, i) => ({
      payload: { chunk_id: c.chunk_id, text: c.text, doc_id: c.doc_id, source: c.source, metadata: c.metadata },
      sparse: bm25DocumentVectorFromTerms(bm, terms[i]),
    }));
    store = new EmbeddedStore();
    await store.reset({ denseDim: null, sparse: true });
    await store.upsert(points);
    await store.searchSparse([], k);
  };
  await build();
  const buildTimes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await build();
    buildTimes.push(performance.now() - t);
  }

  const ask = async (q: string) => {
    const hits = await store.searchSparse([bm25QueryVector(bm, q)], k);
    if (hits.length !== 1) throw new Error(`bm25: one question gave ${hits.length} hit lists`);
  };
  for (const q of questions) await ask(q);
  const latencies: number[] = [];
  for (let p = 0; p < passes; p++) {
    for (const q of questions) {
      const t = performance.now();
      await ask(q);
      latencies.push(performance.now() - t);
    }
  }
  return {
    'bm25 index build': { value: median(buildTimes), unit: 'ms', note: `${chunks.length} chunks, ${bm.model.vocab.length} terms, median of 3` },
    'bm25 query p50': { value: median(latencies), unit: 'ms', note: `${questions.length} questions x ${passes}, top ${k}` },
    'bm25 query p95': { value: percentile(latencies, 0.95), unit: 'ms', note: `${questions.length} questions x ${passes}, top ${k}` },
  };
}

/** The questions of datasets/wine-questions.jsonl. */
export function readWineQuestions(file: string): string[] {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  return lines.map((l, i) => {
    const q = (JSON.parse(l) as { question?: unknown }).question;
    if (typeof q !== 'string') throw new Error(`${file}:${i + 1}: no string field 'question'`);
    return q;
  });
}
