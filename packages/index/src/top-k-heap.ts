/**
 * A bounded min-heap that keeps the k best (score, index) pairs seen so far.
 *
 * Order: a higher score is better; on equal scores the lower index is better, so results
 * never depend on scan order or on how the work was split. The root is the worst kept pair,
 * which makes "is this candidate good enough?" one comparison in the hot loop.
 * Scores are kept as float64 so a candidate is compared against exactly what was computed.
 */
export class TopKHeap {
  readonly k: number;
  size = 0;
  readonly scores: Float64Array;
  readonly indices: Int32Array;

  constructor(k: number) {
    if (!Number.isInteger(k) || k < 1) throw new Error(`top-k needs a positive integer k, got ${k}`);
    this.k = k;
    this.scores = new Float64Array(k);
    this.indices = new Int32Array(k);
  }

  /** Worst kept score, or -Infinity while the heap is not full (anything gets in). */
  threshold(): number {
    return this.size < this.k ? -Infinity : this.scores[0];
  }

  /** true when (s1, i1) ranks below (s2, i2). */
  private static worse(s1: number, i1: number, s2: number, i2: number): boolean {
    return s1 < s2 || (s1 === s2 && i1 > i2);
  }

  push(score: number, index: number): void {
    if (score !== score) return; // NaN never ranks
    const { scores, indices } = this;
    if (this.size < this.k) {
      let at = this.size++;
      // sift up
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!TopKHeap.worse(score, index, scores[parent], indices[parent])) break;
        scores[at] = scores[parent];
        indices[at] = indices[parent];
        at = parent;
      }
      scores[at] = score;
      indices[at] = index;
      return;
    }
    if (!TopKHeap.worse(scores[0], indices[0], score, index)) return;
    // replace the root and sift down
    const n = this.size;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && TopKHeap.worse(scores[right], indices[right], scores[left], indices[left])) child = right;
      if (!TopKHeap.worse(scores[child], indices[child], score, index)) break;
      scores[at] = scores[child];
      indices[at] = indices[child];
      at = child;
    }
    scores[at] = score;
    indices[at] = index;
  }

  /** The kept pairs, best first. */
  sorted(): { scores: Float64Array; indices: Int32Array } {
    const order = Array.from({ length: this.size }, (_, i) => i);
    order.sort((a, b) => (this.scores[b] - this.scores[a]) || (this.indices[a] - this.indices[b]));
    return {
      scores: Float64Array.from(order, (i) => this.scores[i]),
      indices: Int32Array.from(order, (i) => this.indices[i]),
    };
  }

  clear(): void {
    this.size = 0;
  }
}
