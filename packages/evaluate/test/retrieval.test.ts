import { describe, expect, it } from 'vitest';
import { questionRetrieval, summarizeRetrieval } from '../src/index.ts';

// A hand-made case: q1's gold chunk is first by retrieval but POV re-ranking moves it to 3rd (out of
// a top-2 context: pushed out); q2's gold chunk is 3rd by retrieval and 1st by POV (pulled in); q3
// has two gold chunks, one not retrieved; q4 has none (left out).
const questions = [
  { question_id: 'q1', split: 'test', gold_chunk_ids: ['a'] },
  { question_id: 'q2', split: 'test', gold_chunk_ids: ['f'] },
  { question_id: 'q3', split: 'train', gold_chunk_ids: ['g', 'zz'] },
  { question_id: 'q4', split: 'test', gold_chunk_ids: [] },
];
const order = (q: string, ids: string[]) => ids.map((chunk_id, i) => ({ question_id: q, rank: i + 1, chunk_id }));
const retrieved = [...order('q1', ['a', 'b', 'c']), ...order('q2', ['d', 'e', 'f']), ...order('q3', ['g', 'h', 'i']), ...order('q4', ['j'])];
// [chunk, similarity_rank, pov_rank]; the top 2 by POV are in the context
const rank = (q: string, rows: [string, number, number][]) => rows.map(([chunk_id, similarity_rank, pov_rank]) => ({ question_id: q, chunk_id, similarity_rank, pov_rank, in_context: pov_rank <= 2 }));
const ranked = [
  ...rank('q1', [['a', 1, 3], ['b', 2, 1], ['c', 3, 2]]),
  ...rank('q2', [['d', 1, 2], ['e', 2, 3], ['f', 3, 1]]),
  ...rank('q3', [['g', 1, 2], ['h', 2, 1], ['i', 3, 3]]),
];
// q2's prompt dropped its second chunk to fit; q3's kept both
const prompts = [{ question_id: 'q1', chunk_ids: ['b', 'c'] }, { question_id: 'q2', chunk_ids: ['f'] }, { question_id: 'q3', chunk_ids: ['h', 'g'] }];

describe('retrieval metrics', () => {
  const rows = questionRetrieval(questions, retrieved, ranked, prompts);

  it('places the first gold chunk in both orders and follows it into the context and the prompt', () => {
    expect(rows.map((r) => [r.question_id, r.index_rank, r.pov_rank, r.in_context, r.in_prompt, r.in_similarity_top_n])).toEqual([
      ['q1', 1, 3, false, false, true],
      ['q2', 3, 1, true, true, false],
      ['q3', 1, 2, true, true, true],
    ]);
  });

  it('averages recall@k and MRR per order, caps k at the depth, and names who was pushed out', () => {
    const s = summarizeRetrieval(rows, [1, 2, 10])!;
    expect(s.ks).toEqual([1, 2, 3]);
    // recall@1: index q1 1, q2 0, q3 1/2 -> 0.5; POV q1 0, q2 1, q3 0 -> 1/3
    expect(s.index.recall[1]).toBeCloseTo(0.5, 12);
    expect(s.pov.recall[1]).toBeCloseTo(1 / 3, 12);
    // recall@2: index 1, 0, 1/2; POV 0, 1, 1/2
    expect(s.index.recall[2]).toBeCloseTo(0.5, 12);
    expect(s.pov.recall[2]).toBeCloseTo(0.5, 12);
    expect(s.index.recall[3]).toBeCloseTo((1 + 1 + 0.5) / 3, 12);
    expect(s.index.mrr).toBeCloseTo((1 + 1 / 3 + 1) / 3, 12);
    expect(s.pov.mrr).toBeCloseTo((1 / 3 + 1 + 1 / 2) / 3, 12);
    expect(s.share_in_context).toBeCloseTo(2 / 3, 12);
    expect(s.share_in_prompt).toBeCloseTo(2 / 3, 12);
    expect(s.share_in_similarity_top_n).toBeCloseTo(2 / 3, 12);
    expect(s.pushed_out).toEqual(['q1']);
    expect(s.pulled_in).toEqual(['q2']);
  });

  it('follows rank\'s context order (ranked v2: POV blended with relevance) where it is given, else the POV order', () => {
    expect(summarizeRetrieval(rows, [1])!.context).toEqual(summarizeRetrieval(rows, [1])!.pov);
    // q1 at pov_weight < 1: the gold chunk a is first in the context order though third by POV
    const blended = ranked.map((r) => (r.question_id === 'q1' ? { ...r, context_rank: ({ a: 1, b: 2, c: 3 } as Record<string, number>)[r.chunk_id], in_context: r.chunk_id !== 'c' } : r));
    const [q1] = questionRetrieval(questions, retrieved, blended, prompts);
    expect(q1).toMatchObject({ pov_rank: 3, context_rank: 1, in_context: true, contextOrder: ['a', 'b', 'c'] });
  });

  it('has nothing to say without gold chunks', () => {
    expect(summarizeRetrieval([], [1])).toBeNull();
  });
});
