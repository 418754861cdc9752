import { denseTopK } from './dense-topk.ts';
import { reciprocalRankFusion } from './rrf.ts';
import { SparseInvertedIndex, type SparseVector } from './sparse-index.ts';
import type { ChunkPayload, HybridOptions, SearchHit, StoreLayout, StorePoint, VectorStore } from './vector-store.ts';

/**
 * The default store: exact search in process. Dense vectors live in one contiguous row-major
 * Float32Array (normalised on insert, so a dot product is the cosine, as in a Qdrant Cosine
 * collection); sparse vectors go into an inverted index built on the first sparse search after a
 * change. Persisting and reloading is in store-files.ts.
 */
export class EmbeddedStore implements VectorStore {
  readonly kind = 'embedded' as const;
  readonly location: string;
  private layout: StoreLayout = { denseDim: null, sparse: false };
  private payloads: ChunkPayload[] = [];
  private rowOf = new Map<string, number>();
  private matrix = new Float32Array(0);
  private sparseRows: SparseVector[] = [];
  private inverted: SparseInvertedIndex | null = null;

  constructor(location = 'memory') {
    this.location = location;
  }

  get storeLayout(): StoreLayout {
    return { ...this.layout };
  }

  async reset(layout: StoreLayout): Promise<void> {
    if (layout.denseDim !== null && !(Number.isInteger(layout.denseDim) && layout.denseDim > 0)) {
      throw new Error(`embedded store: dense size must be a positive integer, got ${layout.denseDim}`);
    }
    if (layout.denseDim === null && !layout.sparse) throw new Error('embedded store: a layout needs dense vectors, sparse vectors or both');
    this.layout = { ...layout };
    this.payloads = [];
    this.rowOf = new Map();
    this.matrix = new Float32Array(0);
    this.sparseRows = [];
    this.inverted = null;
  }

  async upsert(points: readonly StorePoint[]): Promise<void> {
    const dim = this.layout.denseDim;
    for (const [i, p] of points.entries()) {
      const id = p.payload.chunk_id;
      if (dim !== null) {
        if (!p.dense) throw new Error(`upsert: point ${i} (chunk_id ${id}) has no dense vector but the store holds ${dim}-dim vectors`);
        if (p.dense.length !== dim) throw new Error(`upsert: point ${i} (chunk_id ${id}) has a ${p.dense.length}-dim vector, the store holds ${dim}-dim vectors`);
      }
      if (this.layout.sparse && !p.sparse) throw new Error(`upsert: point ${i} (chunk_id ${id}) has no sparse vector but the store holds sparse vectors`);
      let row = this.rowOf.get(id);
      if (row === undefined) {
        row = this.payloads.length;
        this.rowOf.set(id, row);
        this.payloads.push(p.payload);
      } else {
        this.payloads[row] = p.payload;
      }
      if (dim !== null) {
        this.ensureCapacity(row + 1, dim);
        this.matrix.set(p.dense!, row * dim);
        normalizeInPlace(this.matrix.subarray(row * dim, (row + 1) * dim));
      }
      if (this.layout.sparse) this.sparseRows[row] = copySparse(p.sparse!);
    }
    this.inverted = null;
  }

  async searchDense(queries: readonly Float32Array[], k: number): Promise<SearchHit[][]> {
    const dim = this.requireDense();
    const n = this.payloads.length;
    if (n === 0) return queries.map(() => []);
    const block = packQueries(queries, dim);
    const top = denseTopK(block, queries.length, this.matrix, n, dim, k);
    return queries.map((_, q) => this.hits(top.indices.subarray(q * top.k, (q + 1) * top.k), top.scores.subarray(q * top.k, (q + 1) * top.k)));
  }

  async searchSparse(queries: readonly SparseVector[], k: number): Promise<SearchHit[][]> {
    const index = this.sparseIndex();
    return index.search(queries, k).map((r) => this.hits(r.indices, r.scores));
  }

  async searchHybrid(dense: readonly Float32Array[], sparse: readonly SparseVector[], k: number, opts: HybridOptions): Promise<SearchHit[][]> {
    if (dense.length !== sparse.length) throw new Error(`hybrid search: ${dense.length} dense but ${sparse.length} sparse queries`);
    const dim = this.requireDense();
    const n = this.payloads.length;
    if (n === 0) return dense.map(() => []);
    const index = this.sparseIndex();
    const top = denseTopK(packQueries(dense, dim), dense.length, this.matrix, n, dim, opts.prefetch);
    const sparseTop = index.search(sparse, opts.prefetch);
    return dense.map((_, q) => {
      const fused = reciprocalRankFusion([top.indices.subarray(q * top.k, (q + 1) * top.k), sparseTop[q].indices], opts.rrfK, k);
      return this.hits(fused.indices, fused.scores);
    });
  }

  async count(): Promise<number> {
    return this.payloads.length;
  }

  async close(): Promise<void> {
    // Frees the inverted index (rebuilt on demand); the rows stay so a closed store can still be saved.
    this.inverted = null;
  }

  /** The stored rows, for persistence: payloads, the normalised matrix, the sparse rows. */
  snapshot(): { layout: StoreLayout; payloads: readonly ChunkPayload[]; dense: Float32Array | null; sparse: readonly SparseVector[] | null } {
    const dim = this.layout.denseDim;
    return {
      layout: { ...this.layout },
      payloads: this.payloads,
      dense: dim === null ? null : this.matrix.subarray(0, this.payloads.length * dim),
      sparse: this.layout.sparse ? this.sparseRows : null,
    };
  }

  private hits(indices: ArrayLike<number>, scores: ArrayLike<number>): SearchHit[] {
    return Array.from({ length: indices.length }, (_, j) => {
      const p = this.payloads[indices[j]];
      return { chunk_id: p.chunk_id, score: scores[j], text: p.text };
    });
  }

  private requireDense(): number {
    if (this.layout.denseDim === null) throw new Error('dense search: this store holds no dense vectors (it was built from sparse vectors only)');
    return this.layout.denseDim;
  }

  private sparseIndex(): SparseInvertedIndex {
    if (!this.layout.sparse) throw new Error('sparse search: this store holds no sparse vectors (it was built from dense vectors only)');
    this.inverted ??= new SparseInvertedIndex(this.sparseRows);
    return this.inverted;
  }

  private ensureCapacity(rows: number, dim: number): void {
    if (this.matrix.length >= rows * dim) return;
    // Doubling keeps bulk loading linear; the spare tail is never searched (searches pass n).
    const grown = new Float32Array(Math.max(rows, Math.ceil((this.matrix.length / dim) * 2), 1024) * dim);
    grown.set(this.matrix);
    this.matrix = grown;
  }
}

/** Scales a vector to unit length; a zero vector stays zero (it then scores 0 against everything). */
export function normalizeInPlace(v: Float32Array): void {
  let sq = 0;
  for (let i = 0; i < v.length; i++) sq += v[i] * v[i];
  if (sq === 0) return;
  const inv = 1 / Math.sqrt(sq);
  for (let i = 0; i < v.length; i++) v[i] *= inv;
}

function packQueries(queries: readonly Float32Array[], dim: number): Float32Array {
  const block = new Float32Array(queries.length * dim);
  queries.forEach((q, i) => {
    if (q.length !== dim) throw new Error(`dense search: query ${i} has ${q.length} values, the store holds ${dim}-dim vectors. Embed questions and chunks with the same model.`);
    block.set(q, i * dim);
    normalizeInPlace(block.subarray(i * dim, (i + 1) * dim));
  });
  return block;
}

function copySparse(v: SparseVector): SparseVector {
  if (v.indices.length !== v.values.length) throw new Error(`sparse vector has ${v.indices.length} indices but ${v.values.length} values`);
  return { indices: Int32Array.from(v.indices), values: Float32Array.from(v.values) };
}
