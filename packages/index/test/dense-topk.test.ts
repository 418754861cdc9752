import { describe, expect, it } from 'vitest';
import { denseTopK, naiveDenseTopK } from '../src/index.ts';
import { bruteForceTopK, seededRandom } from './fixtures.ts';

function randomMatrix(rows: number, dim: number, rnd: () => number, ints = false): Float32Array {
  // Small integers make every dot product exact in floating point, so there are many exact ties.
  return Float32Array.from({ length: rows * dim }, () => (ints ? Math.floor(rnd() * 5) - 2 : rnd() * 2 - 1));
}

describe('denseTopK', () => {
  it.each([
    { n: 1003, dim: 37, nq: 70, k: 10 },   // row count not a multiple of the 4-row tile, 70 queries = a full and a partial block
    { n: 257, dim: 384, nq: 5, k: 25 },
    { n: 64, dim: 8, nq: 3, k: 64 },       // k = n: the full ranking
  ])('equals a brute-force sort on random data (n=$n dim=$dim nq=$nq k=$k)', ({ n, dim, nq, k }) => {
    const rnd = seededRandom(n * 31 + dim);
    const m = randomMatrix(n, dim, rnd);
    const q = randomMatrix(nq, dim, rnd);
    const got = denseTopK(q, nq, m, n, dim, k);
    const want = bruteForceTopK(q, nq, m, n, dim, k);
    expect(got.k).toBe(Math.min(k, n));
    expect(Array.from(got.indices)).toEqual(want.indices);
    for (let i = 0; i < want.scores.length; i++) expect(got.scores[i]).toBeCloseTo(want.scores[i], 5);
  });

  it('breaks exact ties by the lower row index', () => {
    const rnd = seededRandom(7);
    const n = 501, dim = 6, nq = 9, k = 40;
    const m = randomMatrix(n, dim, rnd, true);
    const q = randomMatrix(nq, dim, rnd, true);
    const got = denseTopK(q, nq, m, n, dim, k);
    const want = bruteForceTopK(q, nq, m, n, dim, k);
    // The data really has ties inside the top-k (otherwise this test would prove nothing).
    const tiesInside = want.scores.some((s, i) => i % k > 0 && s === want.scores[i - 1]);
    expect(tiesInside).toBe(true);
    expect(Array.from(got.indices)).toEqual(want.indices);
    expect(Array.from(got.scores)).toEqual(want.scores);
  });

  it('duplicate rows come back in row order with equal scores', () => {
    const dim = 4;
    const rows = [[1, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0.5, 0.5, 0, 0], [1, 0, 0, 0]];
    const m = Float32Array.from(rows.flat());
    const got = denseTopK(Float32Array.from([1, 0, 0, 0]), 1, m, rows.length, dim, 4);
    expect(Array.from(got.indices)).toEqual([0, 2, 4, 3]);
    expect(Array.from(got.scores)).toEqual([1, 1, 1, 0.5]);
  });

  it('clamps k to the number of rows and rejects bad shapes', () => {
    const got = denseTopK(Float32Array.from([1, 1]), 1, Float32Array.from([1, 0, 0, 1, 2, 2]), 3, 2, 10);
    expect(got.k).toBe(3);
    expect(Array.from(got.indices)).toEqual([2, 0, 1]);
    expect(() => denseTopK(new Float32Array(3), 1, new Float32Array(8), 2, 4, 1)).toThrow(/1 queries of dim 4 need 4 values, got 3/);
    expect(() => denseTopK(new Float32Array(4), 1, new Float32Array(8), 2, 4, 0)).toThrow(/k must be a positive integer/);
  });
});

describe('naiveDenseTopK (the benchmark baseline)', () => {
  it('gives the same answer as denseTopK, ties included', () => {
    const rnd = seededRandom(11);
    const n = 333, dim = 10, nq = 7, k = 12;
    const m = randomMatrix(n, dim, rnd, true);
    const q = randomMatrix(nq, dim, rnd, true);
    const fast = denseTopK(q, nq, m, n, dim, k);
    const naive = naiveDenseTopK(q, nq, m, n, dim, k);
    expect(Array.from(naive.indices)).toEqual(Array.from(fast.indices));
    expect(Array.from(naive.scores)).toEqual(Array.from(fast.scores));
  });
});
