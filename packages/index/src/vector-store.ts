import type { SparseVector } from './sparse-index.ts';

/** What a store keeps with each chunk, returned with every hit (Qdrant: the point payload). */
export interface ChunkPayload {
  chunk_id: string;
  text: string;
  doc_id: string;
  source: string;
  /** JSON object as text, as in chunks.arrow. */
  metadata: string;
}

/** Which vectors the store holds: decided once per (re)build. */
export interface StoreLayout {
  /** Dense vector size, or null when the pipeline has no dense vectors. */
  denseDim: number | null;
  sparse: boolean;
}

export interface StorePoint {
  payload: ChunkPayload;
  dense?: Float32Array;
  sparse?: SparseVector;
}

export interface SearchHit {
  chunk_id: string;
  score: number;
  text: string;
}

export interface HybridOptions {
  /** Candidates each of the dense and sparse searches fetches before fusion. */
  prefetch: number;
  /** Reciprocal rank fusion constant: score = sum of 1 / (rrf_k + rank), rank 1-based. */
  rrfK: number;
}

export type SearchMethod = 'dense' | 'sparse' | 'hybrid';

/**
 * A chunk index: the embedded in-process store or a Qdrant collection. Dense search is by cosine
 * similarity (both stores normalise), sparse search by dot product (BM25 when the vectors come from
 * the embed stage), hybrid by reciprocal rank fusion of the two.
 */
export interface VectorStore {
  readonly kind: 'embedded' | 'qdrant';
  /** Where the data lives, for logs: a folder or a URL + collection. */
  readonly location: string;
  /** Drops whatever the store held and prepares it for vectors of this layout. */
  reset(layout: StoreLayout): Promise<void>;
  /** Inserts or replaces points by chunk_id. */
  upsert(points: readonly StorePoint[]): Promise<void>;
  searchDense(queries: readonly Float32Array[], k: number): Promise<SearchHit[][]>;
  searchSparse(queries: readonly SparseVector[], k: number): Promise<SearchHit[][]>;
  searchHybrid(dense: readonly Float32Array[], sparse: readonly SparseVector[], k: number, opts: HybridOptions): Promise<SearchHit[][]>;
  count(): Promise<number>;
  close(): Promise<void>;
}
