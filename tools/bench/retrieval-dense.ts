import { mulberry32 } from '@ragrpo/config';
import { denseTopK, naiveDenseTopK } from '@ragrpo/index';
import type { Metrics } from './report.ts';

/** `rows` x `dim` Gaussian vectors (Box-Muller), each scaled to unit length, row-major. */
export function randomUnitVectors(rows: number, dim: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let sq = 0;
    for (let d = 0; d < dim; d += 2) {
      const u = 1 - rand(), v = rand();
      const mag = Math.sqrt(-2 * Math.log(u));
      const x = mag * Math.cos(2 * Math.PI * v), y = mag * Math.sin(2 * Math.PI * v);
      out[o + d] = x; sq += x * x;
      if (d + 1 < dim) { out[o + d + 1] = y; sq += y * y; }
    }
    const inv = 1 / Math.sqrt(sq);
    for (let d = 0; d < dim; d++) out[o + d] *= inv;
  }
  return out;
}

export interface DenseBenchOptions { rows: number; dim: number; queries: number; k: number; seed: number; runs: number }

/**
 * Exact dense top-k, blocked kernel vs the plain loop, over the same seeded data in one process.
 * The plain loop is timed once (it takes seconds); the blocked kernel is the median of `runs`
 * after a warm-up. Both must return the same rows in the same order, or the numbers mean nothing.
 */
export function denseTopKBench(o: DenseBenchOptions): Metrics {
  const matrix = randomUnitVectors(o.rows, o.dim, o.seed);
  const queries = randomUnitVectors(o.queries, o.dim, o.seed + 1);

  let t = performance.now();
  const naive = naiveDenseTopK(queries, o.queries, matrix, o.rows, o.dim, o.k);
  const naiveMs = performance.now() - t;

  let fast = denseTopK(queries, o.queries, matrix, o.rows, o.dim, o.k);
  const times: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    t = performance.now();
    fast = denseTopK(queries, o.queries, matrix, o.rows, o.dim, o.k);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const fastMs = times[times.length >> 1];

  if (fast.k !== naive.k || fast.indices.length !== naive.indices.length) {
    throw new Error(`dense top-k: denseTopK returned ${fast.indices.length} hits, naiveDenseTopK ${naive.indices.length}`);
  }
  for (let i = 0; i < naive.indices.length; i++) {
    if (fast.indices[i] !== naive.indices[i]) {
      const q = Math.floor(i / naive.k), rank = (i % naive.k) + 1;
      throw new Error(`dense top-k: denseTopK and naiveDenseTopK disagree at query ${q}, rank ${rank}: row ${fast.indices[i]} (score ${fast.scores[i]}) vs row ${naive.indices[i]} (score ${naive.scores[i]})`);
    }
  }
  const shape = `${o.queries} q x ${o.rows / 1000}k x ${o.dim}, top ${o.k}`;
  return {
    'dense top-10 denseTopK': { value: fastMs, unit: 'ms', note: `${shape}, median of ${o.runs}` },
    'dense top-10 naive loop': { value: naiveMs, unit: 'ms', note: `${shape}, one run` },
    'dense top-10 speedup': { value: naiveMs / fastMs, unit: 'x', note: 'naive / denseTopK, identical indices checked' },
  };
}
