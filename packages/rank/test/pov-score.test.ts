import { describe, expect, it } from 'vitest';
import { cosineMatrix, denseVectorSet, orderByScore, povScores, sparseVectorSet } from '../src/index.ts';

// POVs along the first two axes, so every cosine below is checkable by eye.
const povs = denseVectorSet(['p1', 'p2'], [[1, 0, 0], [0, 1, 0]]);

describe('povScores (seed 002: cosine matrix, row L2 norm, re-order)', () => {
  it('computes the chunk x POV cosine matrix and the row norms by hand', () => {
    const chunks = denseVectorSet(['c1', 'c2', 'c3'], [
      [0, 0, 5],  // orthogonal to both POVs: cos (0, 0), score 0
      [1, 1, 1],  // cos (1/sqrt3, 1/sqrt3), score sqrt(2/3) = 0.8165
      [3, 4, 0],  // cos (3/5, 4/5), score sqrt(0.36 + 0.64) = 1
    ]);
    const { cosine, scores, order } = povScores(chunks, povs);
    expect(cosine.rows).toBe(3);
    expect(cosine.cols).toBe(2);
    const expected = [0, 0, 1 / Math.sqrt(3), 1 / Math.sqrt(3), 0.6, 0.8];
    expected.forEach((v, i) => expect(cosine.values[i]).toBeCloseTo(v, 6));
    expect(scores[0]).toBe(0);
    expect(scores[1]).toBeCloseTo(Math.sqrt(2 / 3), 6);
    expect(scores[2]).toBeCloseTo(1, 6);
    expect(order).toEqual([2, 1, 0]);
  });

  it('counts a negative cosine like a positive one, as the seed squares it', () => {
    const { cosine, scores } = povScores(denseVectorSet(['c'], [[-2, 0, 0]]), povs);
    expect(cosine.values[0]).toBeCloseTo(-1, 6);
    expect(scores[0]).toBeCloseTo(1, 6);
  });

  it('breaks equal scores by the given (retrieval) order', () => {
    // Both rows are unit cosines with one POV: score exactly 1.
    const { scores, order } = povScores(denseVectorSet(['a', 'b', 'c'], [[0, 0, 1], [0, 3, 0], [2, 0, 0]]), povs);
    expect(scores[1]).toBe(scores[2]);
    expect(order).toEqual([1, 2, 0]);
    expect(orderByScore([0.5, 0.9, 0.5, 0.9])).toEqual([1, 3, 0, 2]);
  });

  it('gives a zero vector cosine 0 and score 0, not NaN', () => {
    const { cosine, scores } = povScores(denseVectorSet(['z', 'x'], [[0, 0, 0], [1, 0, 0]]), povs);
    expect(Array.from(cosine.values.subarray(0, 2))).toEqual([0, 0]);
    expect(scores[0]).toBe(0);
    expect(scores[1]).toBeCloseTo(1, 6);
    const zeroPov = povScores(denseVectorSet(['x'], [[1, 0, 0]]), denseVectorSet(['p0'], [[0, 0, 0]]));
    expect(zeroPov.scores[0]).toBe(0);
    const sparse = povScores(sparseVectorSet(['empty'], [{ indices: [], values: [] }]), sparseVectorSet(['p'], [{ indices: [3], values: [1.5] }]));
    expect(sparse.cosine.values[0]).toBe(0);
    expect(sparse.scores[0]).toBe(0);
  });

  it('gives every chunk 0 without POVs, so the retrieval order stands', () => {
    const s = povScores(denseVectorSet(['c1', 'c2'], [[1, 0], [0, 1]]), denseVectorSet([], []));
    expect([s.cosine.rows, s.cosine.cols, Array.from(s.scores), s.order]).toEqual([2, 0, [0, 0], [0, 1]]);
  });

  it('refuses dense vectors of different sizes and mixed kinds', () => {
    expect(() => cosineMatrix(denseVectorSet(['c'], [[1, 0]]), povs)).toThrow(/2 \(chunks\) vs 3 \(POVs\)/);
    expect(() => cosineMatrix(sparseVectorSet(['c'], [{ indices: [0], values: [1] }]), povs)).toThrow(/sparse vectors with dense/);
  });
});

describe('sparse cosine', () => {
  // A small seeded generator so the comparison is the same on every run.
  function mulberry32(seed: number) {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('equals the dense cosine of the densified vectors', () => {
    const rand = mulberry32(7);
    const dim = 50;
    const make = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => {
      const idx = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 12) }, () => Math.floor(rand() * dim)))];
      return { id: `${prefix}${i}`, indices: Int32Array.from(idx), values: Float32Array.from(idx, () => rand() * 3) };
    });
    const densify = (rows: { indices: Int32Array; values: Float32Array }[]) => rows.map((r) => {
      const d = new Float32Array(dim);
      r.indices.forEach((t, k) => { d[t] = r.values[k]; });
      return d;
    });
    const chunks = make(9, 'c');
    const pv = make(4, 'p');
    const sparse = cosineMatrix(sparseVectorSet(chunks.map((c) => c.id), chunks), sparseVectorSet(pv.map((p) => p.id), pv));
    const dense = cosineMatrix(denseVectorSet(chunks.map((c) => c.id), densify(chunks)), denseVectorSet(pv.map((p) => p.id), densify(pv)));
    expect(sparse.values.length).toBe(36);
    expect(sparse.values.some((v) => v > 0.1)).toBe(true);
    sparse.values.forEach((v, i) => expect(v).toBeCloseTo(dense.values[i], 6));
  });

  it('adds up a repeated index, as densifying does', () => {
    const m = cosineMatrix(
      sparseVectorSet(['c'], [{ indices: [1, 1, 2], values: [1, 2, 4] }]), // densified: [0, 3, 4]
      sparseVectorSet(['p'], [{ indices: [1], values: [1] }]),
    );
    expect(m.values[0]).toBeCloseTo(3 / 5, 6);
  });
});
