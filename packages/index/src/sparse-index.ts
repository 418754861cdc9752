import { TopKHeap } from './top-k-heap.ts';

/** A sparse vector: term ids (any int32, e.g. BM25 vocabulary ids or hashes) and their weights. */
export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
}

/**
 * An inverted index over sparse document vectors: for each term, the documents that carry it
 * and their weight, laid out as compressed rows (offsets into one postings array per field).
 * A query touches only the postings of its own terms, so a BM25 query over 100k chunks costs
 * the length of a few postings lists, not a pass over every document.
 */
export class SparseInvertedIndex {
  private readonly slotOfTerm = new Map<number, number>();
  private readonly offsets: Int32Array;
  private readonly docs: Int32Array;
  private readonly weights: Float32Array;
  readonly size: number;

  constructor(vectors: readonly SparseVector[]) {
    this.size = vectors.length;
    // Pass 1: count postings per term.
    const counts: number[] = [];
    vectors.forEach((v, row) => {
      if (v.indices.length !== v.values.length) {
        throw new Error(`sparse vector ${row}: ${v.indices.length} indices but ${v.values.length} values`);
      }
      for (let i = 0; i < v.indices.length; i++) {
        let slot = this.slotOfTerm.get(v.indices[i]);
        if (slot === undefined) { slot = counts.length; this.slotOfTerm.set(v.indices[i], slot); counts.push(0); }
        counts[slot]++;
      }
    });
    this.offsets = new Int32Array(counts.length + 1);
    for (let s = 0; s < counts.length; s++) this.offsets[s + 1] = this.offsets[s] + counts[s];
    const total = this.offsets[counts.length];
    this.docs = new Int32Array(total);
    this.weights = new Float32Array(total);
    // Pass 2: fill; documents are visited in row order, so each postings list is sorted by row.
    const fill = this.offsets.slice(0, counts.length);
    vectors.forEach((v, row) => {
      for (let i = 0; i < v.indices.length; i++) {
        const at = fill[this.slotOfTerm.get(v.indices[i])!]++;
        this.docs[at] = row;
        this.weights[at] = v.values[i];
      }
    });
  }

  get terms(): number {
    return this.slotOfTerm.size;
  }

  /**
   * The k documents with the highest dot product with each query, best first; ties go to the lower
   * row. Only documents sharing at least one term with the query are candidates (like Qdrant's
   * sparse search), so a query may get fewer than k hits.
   */
  search(queries: readonly SparseVector[], k: number): { indices: Int32Array; scores: Float64Array }[] {
    const acc = new Float64Array(this.size);
    const seen = new Uint8Array(this.size);
    const touched = new Int32Array(this.size);
    const heap = new TopKHeap(Math.max(1, k));
    return queries.map((q) => {
      let nTouched = 0;
      for (let i = 0; i < q.indices.length; i++) {
        const slot = this.slotOfTerm.get(q.indices[i]);
        if (slot === undefined) continue;
        const w = q.values[i];
        for (let p = this.offsets[slot], end = this.offsets[slot + 1]; p < end; p++) {
          const doc = this.docs[p];
          if (!seen[doc]) { seen[doc] = 1; touched[nTouched++] = doc; }
          acc[doc] += w * this.weights[p];
        }
      }
      heap.clear();
      for (let t = 0; t < nTouched; t++) {
        const doc = touched[t];
        heap.push(acc[doc], doc);
        acc[doc] = 0;
        seen[doc] = 0;
      }
      return heap.sorted();
    });
  }
}
