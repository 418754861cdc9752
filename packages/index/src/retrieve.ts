import type { Table } from 'apache-arrow';
import { Retrieved, tableFromRows } from '@ragrpo/contracts';
import { readDenseVectors, readSparseVectors } from './arrow-vectors.ts';
import { defaultPrefetch } from './rrf.ts';
import type { SparseVector } from './sparse-index.ts';
import type { SearchHit, SearchMethod, VectorStore } from './vector-store.ts';

export interface RetrieveOptions {
  search: SearchMethod;
  top_k: number;
  /** Reciprocal rank fusion constant for hybrid search (default 60). */
  rrf_k?: number;
  /** Candidates per side before fusion (default max(2 * top_k, 50)). */
  prefetch?: number;
  /** Questions per store request; progress ticks once per batch. */
  batch_size?: number;
  onProgress?(done: number, total: number): void;
}

/** The question vectors from the embed stage (questions.dense.arrow / questions.sparse.arrow). */
export interface QuestionVectors {
  dense?: Table;
  sparse?: Table;
}

export const MISSING_DENSE = 'dense search needs questions.dense.arrow and chunks.dense.arrow from the embed stage: set embed.dense.model in the pipeline (or use index.search: sparse)';
export const MISSING_SPARSE = 'sparse search needs questions.sparse.arrow and chunks.sparse.arrow from the embed stage: set embed.sparse in the pipeline (e.g. `sparse: {}` for BM25) (or use index.search: dense)';

/**
 * Every question's top-k chunks from the store, as a Retrieved table (best first, rank 1-based).
 * Dense and sparse question vectors are matched by question id when both are needed.
 */
export async function retrieve(store: VectorStore, questions: QuestionVectors, opts: RetrieveOptions): Promise<Table> {
  const { search, top_k: k } = opts;
  if (!Number.isInteger(k) || k < 1) throw new Error(`index.top_k must be a positive integer, got ${k}`);
  const needDense = search === 'dense' || search === 'hybrid';
  const needSparse = search === 'sparse' || search === 'hybrid';
  if (needDense && !questions.dense) throw new Error(MISSING_DENSE);
  if (needSparse && !questions.sparse) throw new Error(MISSING_SPARSE);

  const dense = needDense ? readDenseVectors(questions.dense!) : null;
  const sparse = needSparse ? readSparseVectors(questions.sparse!) : null;
  const ids = dense ? dense.ids : sparse!.ids;
  const denseQ: Float32Array[] = dense ? ids.map((_, i) => dense.flat.subarray(i * dense.dim, (i + 1) * dense.dim)) : [];
  let sparseQ: SparseVector[] = sparse ? sparse.vectors : [];
  if (dense && sparse) sparseQ = alignSparse(ids, sparse.ids, sparse.vectors);

  const batch = opts.batch_size ?? 64;
  const hybrid = { prefetch: opts.prefetch ?? defaultPrefetch(k), rrfK: opts.rrf_k ?? 60 };
  const hits: SearchHit[][] = [];
  for (let at = 0; at < ids.length; at += batch) {
    const end = Math.min(ids.length, at + batch);
    const part = search === 'dense' ? await store.searchDense(denseQ.slice(at, end), k)
      : search === 'sparse' ? await store.searchSparse(sparseQ.slice(at, end), k)
        : await store.searchHybrid(denseQ.slice(at, end), sparseQ.slice(at, end), k, hybrid);
    hits.push(...part);
    opts.onProgress?.(end, ids.length);
  }

  const rows = ids.flatMap((question_id, q) => hits[q].map((h, r) => ({
    question_id, rank: r + 1, chunk_id: h.chunk_id, score: h.score, method: search, text: h.text,
  })));
  return tableFromRows(Retrieved, rows, { 'ragrpo.search': search, 'ragrpo.top_k': String(k) });
}

function alignSparse(ids: readonly string[], sparseIds: readonly string[], vectors: SparseVector[]): SparseVector[] {
  if (ids.length === sparseIds.length && ids.every((id, i) => id === sparseIds[i])) return vectors;
  const rowOf = new Map(sparseIds.map((id, r) => [id, r]));
  return ids.map((id) => {
    const r = rowOf.get(id);
    if (r === undefined) throw new Error(`questions.sparse.arrow: no vector for question_id '${id}' (it is in questions.dense.arrow). Re-run the embed stage.`);
    return vectors[r];
  });
}
