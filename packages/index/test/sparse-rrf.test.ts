import { describe, expect, it } from 'vitest';
import { SparseInvertedIndex, reciprocalRankFusion, defaultPrefetch } from '../src/index.ts';

const sv = (entries: Record<number, number>) => {
  const ids = Object.keys(entries).map(Number).sort((a, b) => a - b);
  return { indices: Int32Array.from(ids), values: Float32Array.from(ids, (i) => entries[i]) };
};

describe('SparseInvertedIndex', () => {
  const docs = [
    sv({ 1: 0.5, 3: 2.0 }),
    sv({ 2: 1.0, 3: 1.0 }),
    sv({ 7: 4.0 }),
    sv({ 1: 1.0, 2: 1.0, 3: 1.0 }),
    sv({ 2147483647: 0.25 }), // a hashed term id at the top of the int32 range
  ];
  const index = new SparseInvertedIndex(docs);

  it('scores are the hand-computed dot products, best first', () => {
    const [r] = index.search([sv({ 1: 2.0, 3: 0.5 })], 10);
    // d3 = 2*1 + 0.5*1 = 2.5; d0 = 2*0.5 + 0.5*2 = 2.0; d1 = 0.5*1 = 0.5; d2 and d4 share no term
    expect(Array.from(r.indices)).toEqual([3, 0, 1]);
    expect(Array.from(r.scores)).toEqual([2.5, 2.0, 0.5]);
  });

  it('only documents sharing a term are hits; unknown query terms are ignored', () => {
    const [a, b] = index.search([sv({ 7: 1.5, 99: 3 }), sv({ 2147483647: 4, 5: 1 })], 10);
    expect(Array.from(a.indices)).toEqual([2]);
    expect(Array.from(a.scores)).toEqual([6]);
    expect(Array.from(b.indices)).toEqual([4]);
    expect(Array.from(b.scores)).toEqual([1]);
  });

  it('keeps the k best, ties to the lower row, and leaves no state behind between queries', () => {
    const q = sv({ 2: 1, 3: 1 }); // d0 = 2, d1 = 2, d3 = 2: a three-way tie
    const [first, again] = index.search([q, q], 2);
    expect(Array.from(first.indices)).toEqual([0, 1]);
    expect(Array.from(first.scores)).toEqual([2, 2]);
    expect(Array.from(again.indices)).toEqual([0, 1]);
    expect(Array.from(again.scores)).toEqual([2, 2]);
    expect(index.terms).toBe(5);
  });

  it('rejects a vector whose indices and values differ in length', () => {
    expect(() => new SparseInvertedIndex([{ indices: Int32Array.from([1, 2]), values: Float32Array.from([1]) }]))
      .toThrow(/sparse vector 0: 2 indices but 1 values/);
  });
});

describe('reciprocalRankFusion', () => {
  it('a hand-worked example with rrf_k = 60: ties go to the lower key', () => {
    // dense: A B C, sparse: C D A (A=0, B=1, C=2, D=3)
    // A = 1/61 + 1/63, C = 1/63 + 1/61, B = 1/62, D = 1/62
    const fused = reciprocalRankFusion([[0, 1, 2], [2, 3, 0]], 60, 10);
    expect(Array.from(fused.indices)).toEqual([0, 2, 1, 3]);
    const ac = 1 / 61 + 1 / 63;
    expect(Array.from(fused.scores)).toEqual([ac, ac, 1 / 62, 1 / 62]);
  });

  it('matches the numbers in Qdrant\'s own RRF unit test (its k=2 with 0-based positions is rrf_k=1)', () => {
    // Qdrant lib/segment/src/common/reciprocal_rank_fusion.rs, test_rrf_scoring:
    // point 1 -> 1.0833334, point 2 -> 0.8333334, point 3 -> 0.5833334, point 5 -> 0.5
    const fused = reciprocalRankFusion([[2, 1], [1, 2, 3], [5, 3, 1]], 1, 10);
    expect(Array.from(fused.indices)).toEqual([1, 2, 3, 5]);
    // Qdrant sums in float32, so compare to float32 precision.
    [1.0833334, 0.8333334, 0.5833334, 0.5].forEach((want, i) => expect(fused.scores[i]).toBeCloseTo(want, 6));
  });

  it('cuts to the limit and rejects a non-positive constant', () => {
    const fused = reciprocalRankFusion([[5, 4, 3], [3]], 1, 2);
    // 3: 1/4 + 1/2 = 0.75, 5: 1/2, 4: 1/3
    expect(Array.from(fused.indices)).toEqual([3, 5]);
    expect(Array.from(fused.scores)).toEqual([0.75, 0.5]);
    expect(() => reciprocalRankFusion([[1]], 0, 1)).toThrow(/rrf_k must be positive/);
  });

  it('prefetches max(2 * top_k, 50) candidates by default', () => {
    expect(defaultPrefetch(10)).toBe(50);
    expect(defaultPrefetch(40)).toBe(80);
  });
});
