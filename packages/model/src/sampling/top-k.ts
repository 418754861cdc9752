// Candidate lists for top-k and top-p (nucleus) sampling without sorting the whole vocabulary, which at 32k
// tokens would cost more per token than the decode step itself. Both return ids best first, ties by lower id,
// so the result never depends on the scan order.
//
// @ragrpo/index has the same bounded heap (TopKHeap, same ordering) for retrieval. It cannot be shared from
// there: the engine may import only type:shared packages, and index is a stage. See the README ("Duplicates").

const better = (p: Float64Array, a: number, b: number) => p[a] > p[b] || (p[a] === p[b] && a < b);
const bestFirst = (p: Float64Array) => (a: number, b: number) => (better(p, a, b) ? -1 : 1);

/** The k most probable ids, best first, with a bounded min-heap (O(V log k)). */
export function topKIndices(p: Float64Array, k: number): number[] {
  const heap: number[] = []; // heap[0] is the worst kept candidate
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < heap.length && better(p, heap[w], heap[l])) w = l;
      if (r < heap.length && better(p, heap[w], heap[r])) w = r;
      if (w === i) return;
      [heap[i], heap[w]] = [heap[w], heap[i]];
      i = w;
    }
  };
  const siftUp = (i: number) => {
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!better(p, heap[up], heap[i])) return;
      [heap[i], heap[up]] = [heap[up], heap[i]];
      i = up;
    }
  };
  for (let id = 0; id < p.length; id++) {
    if (heap.length < k) {
      heap.push(id);
      siftUp(heap.length - 1);
    } else if (better(p, id, heap[0])) {
      heap[0] = id;
      siftDown(0);
    }
  }
  return heap.sort(bestFirst(p));
}

/**
 * Ids that can be in the top-p nucleus, best first. Tokens each below (1 - p) / V of the mass
 * together hold at most 1 - p of it, so the nucleus never needs them: only the rest is sorted.
 */
export function nucleusCandidates(p: Float64Array, total: number, topP: number): number[] {
  const floor = ((1 - topP) * total) / p.length;
  const ids: number[] = [];
  for (let i = 0; i < p.length; i++) if (p[i] >= floor) ids.push(i);
  return ids.sort(bestFirst(p));
}
