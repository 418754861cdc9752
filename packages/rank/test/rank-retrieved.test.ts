import { describe, expect, it } from 'vitest';
import { DenseVectors, PovMatrix, Ranked, Retrieved, SparseVectors, checkSchema, tableFromRows, tableRows } from '@ragrpo/contracts';
import { blendedOrder, goldInContextShare, minMaxNormalize, rankRetrieved } from '../src/index.ts';

const retrieved = tableFromRows(Retrieved, [
  // q1 rows out of order on purpose: rank decides, not file order.
  { question_id: 'q1', rank: 2, chunk_id: 'b', score: 0.8, method: 'dense', text: 'chunk b' },
  { question_id: 'q1', rank: 1, chunk_id: 'a', score: 0.9, method: 'dense', text: 'chunk a' },
  { question_id: 'q1', rank: 3, chunk_id: 'c', score: 0.7, method: 'dense', text: 'chunk c' },
  { question_id: 'q3', rank: 1, chunk_id: 'c', score: 0.5, method: 'dense', text: 'chunk c' },
]);
// a: cos (0, 0) -> 0;  b: cos (1/sqrt2, 1/sqrt2) -> 1;  c: cos (3/5, 0) -> 0.6 (the third axis only adds length)
const chunkVectors = tableFromRows(DenseVectors, [
  { id: 'a', vector: [0, 0, 1] },
  { id: 'b', vector: [1, 1, 0] },
  { id: 'c', vector: [3, 0, 4] },
  { id: 'unused', vector: [1, 2, 3] },
]);
const povVectors = tableFromRows(DenseVectors, [{ id: 'p1', vector: [1, 0, 0] }, { id: 'p2', vector: [0, 1, 0] }]);

describe('rankRetrieved', () => {
  it('re-orders each question by POV score and marks the top_n as context', () => {
    const res = rankRetrieved(retrieved, chunkVectors, povVectors, { topN: 2, questionIds: ['q1', 'q2', 'q3'] });
    checkSchema(res.ranked.schema, Ranked, 'ranked');
    checkSchema(res.povMatrix.schema, PovMatrix, 'pov_matrix');
    const rows = tableRows<Record<string, unknown>>(res.ranked);
    expect(rows.map((r) => [r.question_id, r.chunk_id, r.pov_rank, r.similarity_rank, r.in_context, r.text])).toEqual([
      ['q1', 'b', 1, 2, true, 'chunk b'],
      ['q1', 'c', 2, 3, true, 'chunk c'],
      ['q1', 'a', 3, 1, false, 'chunk a'],
      ['q3', 'c', 1, 1, true, 'chunk c'],
    ]);
    expect(rows.map((r) => r.pov_score as number)).toEqual([1, 0.6, 0, 0.6].map((v) => expect.closeTo(v, 6)));
    expect(rows[0].similarity).toBeCloseTo(0.8, 6);

    const matrix = tableRows<{ question_id: string; chunk_id: string; pov_id: string; cosine: number }>(res.povMatrix);
    expect(matrix).toHaveLength(8);
    const cos = (q: string, c: string, p: string) => matrix.find((m) => m.question_id === q && m.chunk_id === c && m.pov_id === p)!.cosine;
    expect(cos('q1', 'b', 'p2')).toBeCloseTo(Math.SQRT1_2, 6);
    expect(cos('q1', 'c', 'p1')).toBeCloseTo(0.6, 6);
    expect(cos('q1', 'c', 'p2')).toBe(0);
    expect(cos('q1', 'a', 'p1')).toBe(0);
  });

  it('keeps a question with nothing retrieved, with a warning', () => {
    const res = rankRetrieved(retrieved, chunkVectors, povVectors, { topN: 2, questionIds: ['q1', 'q2', 'q3'] });
    expect(res.questions.map((q) => [q.questionId, q.chunks.length])).toEqual([['q1', 3], ['q2', 0], ['q3', 1]]);
    expect(res.warnings).toHaveLength(1);
    expect(res.warnings[0]).toMatch(/question 'q2' has no retrieved chunks/);
  });

  it('ranks questions only found in retrieved.arrow after the listed ones', () => {
    const res = rankRetrieved(retrieved, chunkVectors, povVectors, { topN: 5 });
    expect(res.questions.map((q) => q.questionId)).toEqual(['q1', 'q3']);
    expect(tableRows<{ in_context: boolean }>(res.ranked).every((r) => r.in_context)).toBe(true);
  });

  it('gives the same order from sparse vectors', () => {
    const sv = (id: string, dense: number[]) => ({
      id, indices: dense.flatMap((v, i) => (v ? [i] : [])), values: dense.filter((v) => v),
    });
    const chunks = tableFromRows(SparseVectors, [sv('a', [0, 0, 1]), sv('b', [1, 1, 0]), sv('c', [3, 0, 4])]);
    const pv = tableFromRows(SparseVectors, [sv('p1', [1, 0, 0]), sv('p2', [0, 1, 0])]);
    const res = rankRetrieved(retrieved, chunks, pv, { topN: 1 });
    expect(res.questions[0].chunks.map((c) => [c.chunkId, c.inContext])).toEqual([['b', true], ['c', false], ['a', false]]);
    expect(res.ranked.schema.metadata.get('ragrpo.vectors')).toBe('sparse');
  });

  it('fails clearly without POVs, without a chunk vector, or with a bad top_n', () => {
    const noPovs = tableFromRows(DenseVectors, []);
    expect(() => rankRetrieved(retrieved, chunkVectors, noPovs, { topN: 2 })).toThrow(/add `ingest\.povs`/);
    expect(() => rankRetrieved(retrieved, chunkVectors, noPovs, { topN: 2, povWeight: 0.5 })).toThrow(/or set rank\.pov_weight: 0/);
    // pov_weight 0 asks for the retrieval order, which needs no POVs.
    const kept = rankRetrieved(retrieved, chunkVectors, noPovs, { topN: 2, povWeight: 0 });
    expect(kept.questions[0].chunks.map((c) => [c.chunkId, c.contextRank, c.similarityRank])).toEqual(
      kept.questions[0].chunks.map((c) => [c.chunkId, c.similarityRank, c.similarityRank]),
    );
    const partial = tableFromRows(DenseVectors, [{ id: 'a', vector: [0, 0, 1] }]);
    expect(() => rankRetrieved(retrieved, partial, povVectors, { topN: 2, chunkVectorsName: 'embed/chunks.dense.arrow' }))
      .toThrow(/embed\/chunks\.dense\.arrow: no vector for id 'b'/);
    expect(() => rankRetrieved(retrieved, chunkVectors, povVectors, { topN: 0 })).toThrow(/rank\.top_n/);
  });
});

describe('the relevance / POV blend (rank.pov_weight)', () => {
  // q1 of the fixture, in retrieval order a, b, c: similarity 0.9, 0.8, 0.7 -> normalised 1, 0.5, 0;
  // POV scores 0, 1, 0.6 -> normalised 0, 1, 0.6.
  //   w = 0.5:  a 0.5, b 0.75, c 0.3  -> b, a, c
  //   w = 0.25: a 0.75, b 0.625, c 0.15 -> a, b, c
  it('orders by (1 - w) x normalised similarity + w x normalised POV score, worked out by hand', () => {
    expect(minMaxNormalize([0.9, 0.8, 0.7])).toEqual([1, 0.5, 0].map((v) => expect.closeTo(v, 12)));
    expect(minMaxNormalize([2, 2])).toEqual([1, 1]);
    const half = blendedOrder([0.9, 0.8, 0.7], [0, 1, 0.6], 0.5);
    expect(half.blended).toEqual([0.5, 0.75, 0.3].map((v) => expect.closeTo(v, 12)));
    expect(half.order).toEqual([1, 0, 2]);
    expect(blendedOrder([0.9, 0.8, 0.7], [0, 1, 0.6], 0.25).order).toEqual([0, 1, 2]);
    expect(blendedOrder([0.9, 0.8, 0.7], [0, 1, 0.6], 0).order).toEqual([0, 1, 2]);
    expect(blendedOrder([0.9, 0.8, 0.7], [0, 1, 0.6], 1).order).toEqual([1, 2, 0]);
  });

  it('puts the blended order in the table, with the pure POV rank beside it', () => {
    const res = rankRetrieved(retrieved, chunkVectors, povVectors, { topN: 1, povWeight: 0.5, questionIds: ['q1'] });
    const rows = tableRows<{ chunk_id: string; context_rank: number; pov_rank: number; similarity_rank: number; in_context: boolean; blended_score: number }>(res.ranked);
    expect(rows.filter((r) => r.chunk_id !== 'c' || r.similarity_rank === 3).slice(0, 3).map((r) => [r.chunk_id, r.context_rank, r.pov_rank, r.similarity_rank, r.in_context]))
      .toEqual([['b', 1, 1, 2, true], ['a', 2, 3, 1, false], ['c', 3, 2, 3, false]]);
    expect(rows[0].blended_score).toBeCloseTo(0.75, 6);
  });

  it('reports the share of questions whose gold chunk makes the context', () => {
    const q = { chunkIds: ['a', 'b', 'c'], similarity: [0.9, 0.8, 0.7], povScore: [0, 1, 0.6] };
    // gold a: in the top 1 at w = 0 (a first) and w = 0.25, not at w = 0.5 or 1; a question without gold does not count
    const set = [{ ...q, gold: ['a'] }, { ...q, gold: [] }];
    expect(goldInContextShare(set, 1, 0)).toEqual({ questions: 1, hits: 1, share: 1 });
    expect(goldInContextShare(set, 1, 0.5)).toEqual({ questions: 1, hits: 0, share: 0 });
    expect(goldInContextShare(set, 2, 0.5).share).toBe(1);
  });
});
