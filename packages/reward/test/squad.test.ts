import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { containsReference, contextFaithfulness, createRewardFunction, exactMatchScore, f1Score, normalizeAnswer } from '../src/index.ts';
import { batchOf, FIXTURES } from './helpers.ts';

// Produced by tools/reference/reward_squad_fixtures.py (SQuAD v1.1's evaluate script, re-typed).
interface SquadCase {
  prediction: string;
  truth: string;
  normalized_prediction: string;
  normalized_truth: string;
  exact_match: number;
  f1: number;
  contains_reference: number | null;
  context_faithfulness: number;
}
const fixture = JSON.parse(readFileSync(path.join(FIXTURES, 'squad.json'), 'utf8')) as { cases: SquadCase[] };

describe('SQuAD v1.1 metrics against the official script', () => {
  for (const c of fixture.cases) {
    it(JSON.stringify([c.prediction, c.truth]), () => {
      expect(normalizeAnswer(c.prediction)).toBe(c.normalized_prediction);
      expect(normalizeAnswer(c.truth)).toBe(c.normalized_truth);
      expect(exactMatchScore(c.prediction, c.truth)).toBe(c.exact_match);
      expect(f1Score(c.prediction, c.truth)).toBeCloseTo(c.f1, 12);
      expect(containsReference(c.prediction, c.truth)).toBe(c.contains_reference);
      expect(contextFaithfulness(c.prediction, c.truth)).toBeCloseTo(c.context_faithfulness, 12);
    });
  }

  it('token F1 by hand', () => {
    // "red red wine" vs "red wine": shared = min(2,1) red + 1 wine = 2; P = 2/3, R = 2/2;
    // F1 = 2 * (2/3) * 1 / (2/3 + 1) = (4/3) / (5/3) = 0.8
    expect(f1Score('red red wine', 'red wine')).toBeCloseTo(0.8, 12);
  });
});

describe('reference rewards', () => {
  const batch = batchOf([
    { reference: 'The Eiffel Tower', completion: 'eiffel tower!' },
    { reference: 'Eiffel Tower', completion: 'It is the Eiffel Tower in Paris' },
    { reference: null, completion: 'anything' },
  ]);

  it('exact_match, token_f1 and contains_reference give null without a reference', async () => {
    expect(await createRewardFunction('exact_match')(batch)).toEqual([1, 0, null]);
    // 2nd: pred "it is eiffel tower in paris" (6 tokens), gold "eiffel tower" (2): P = 2/6, R = 1 -> F1 = 2 * (1/3) / (4/3) = 0.5
    const f1 = await createRewardFunction('token_f1')(batch);
    expect(f1[0]).toBe(1);
    expect(f1[1]).toBeCloseTo(0.5, 12);
    expect(f1[2]).toBeNull();
    expect(await createRewardFunction('contains_reference')(batch)).toEqual([1, 1, null]);
  });

  it('rejects options where none are taken', () => {
    expect(() => createRewardFunction('exact_match', { strict: true })).toThrow(/reward 'exact_match': unknown option 'strict'/);
  });
});

describe('context_faithfulness', () => {
  it('counts the answer tokens found in the context', async () => {
    const fn = createRewardFunction('context_faithfulness');
    const out = await fn(batchOf([
      { context: 'Price: $15. It costs little.', completion: 'It costs 15 dollars' },
      { context: 'anything', completion: '' },
      { context: 'Pinot Noir, Oregon', completion: 'The Pinot noir.' },
    ]));
    // 1: answer tokens it, costs, 15, dollars; context tokens {price, 15, it, costs, little} -> 3 of 4 found
    // 2: empty answer -> 0;  3: "pinot noir" (article and case dropped) both in the context -> 2/2
    expect(out).toEqual([0.75, 0, 1]);
  });
});
