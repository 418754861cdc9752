import { cosineMatrix, type Matrix } from './cosine.ts';
import type { VectorSet } from './vector-set.ts';

export interface PovScores {
  /** chunk x POV cosine, rows in the order the chunks were given. */
  cosine: Matrix;
  /** Seed 002's score per chunk: the L2 norm of its cosine row, sqrt(sum_j cos(chunk, pov_j)^2). */
  scores: Float64Array;
  /** Chunk positions, best POV score first; equal scores keep the given (retrieval) order. */
  order: number[];
}

export const NO_POVS_MESSAGE =
  'no POVs to rank with: add `ingest.povs` (items: [...] or path: file) to the pipeline, then re-run ingest and embed; ' +
  'or set rank.pov_weight: 0 to keep the retrieval order';

/**
 * The POV score of seed 002. Give the chunks in retrieval order: that order breaks ties. No POVs give
 * every chunk 0, so the order is the retrieval order.
 */
export function povScores(chunkVectors: VectorSet, povVectors: VectorSet): PovScores {
  const cosine = cosineMatrix(chunkVectors, povVectors);
  const scores = rowL2Norms(cosine);
  return { cosine, scores, order: orderByScore(scores) };
}

export function rowL2Norms(m: Matrix): Float64Array {
  const out = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let j = 0; j < m.cols; j++) s += m.values[i * m.cols + j] ** 2;
    out[i] = Math.sqrt(s);
  }
  return out;
}

/** Positions sorted by score, highest first; ties by position (a stable, deterministic order). */
export function orderByScore(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((x, y) => scores[y] - scores[x] || x - y);
}
