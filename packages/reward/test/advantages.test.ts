import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeAdvantages, type AdvantageResult, type MultiObjectiveAggregation, type ScaleRewards } from '../src/index.ts';
import { FIXTURES } from './helpers.ts';

// Produced by tools/reference/reward_advantage_fixtures.py: TRL's advantage tensor code in PyTorch.
interface AdvantageCase {
  name: string;
  groupSize: number;
  weights: number[] | null;
  scaleRewards: ScaleRewards;
  aggregation: MultiObjectiveAggregation;
  rewards: (number | null)[][];
  expected: { [K in keyof AdvantageResult]: unknown };
}
const fixture = JSON.parse(readFileSync(path.join(FIXTURES, 'advantages.json'), 'utf8')) as { torch: string; cases: AdvantageCase[] };

/** The fixture writes NaN as null. */
function close(actual: unknown, expected: unknown, where: string): void {
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), where).toBe(true);
    expect((actual as unknown[]).length, where).toBe(expected.length);
    expected.forEach((e, i) => close((actual as unknown[])[i], e, `${where}[${i}]`));
  } else if (expected !== null && typeof expected === 'object') {
    for (const [k, e] of Object.entries(expected)) close((actual as Record<string, unknown>)[k], e, `${where}.${k}`);
  } else if (expected === null) {
    expect(Number.isNaN(actual), `${where}: ${String(actual)} should be NaN`).toBe(true);
  } else {
    expect(Math.abs((actual as number) - (expected as number)), `${where}: ${String(actual)} vs ${String(expected)}`).toBeLessThan(1e-6);
  }
}

describe(`computeAdvantages against TRL's tensor code (torch ${fixture.torch})`, () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const got = computeAdvantages(c.rewards, {
        groupSize: c.groupSize, weights: c.weights ?? undefined, scaleRewards: c.scaleRewards, aggregation: c.aggregation,
      });
      close(got, c.expected, c.name);
    });
  }
});

describe('computeAdvantages by hand', () => {
  it('subtracts the group mean and divides by the Bessel-corrected group std + 1e-4', () => {
    // One group [1, 0, 0, 1]: mean 0.5; std = sqrt((4 * 0.25) / 3) = 0.57735; A = ±0.5 / 0.57745 = ±0.86588
    const r = computeAdvantages([[1, 0, 0, 1]], { groupSize: 4, scaleRewards: 'group', aggregation: 'sum_then_normalize' });
    const a = 0.5 / (Math.sqrt(1 / 3) + 1e-4);
    expect(a).toBeCloseTo(0.86588, 5);
    r.advantages.forEach((v, i) => expect(v).toBeCloseTo([a, -a, -a, a][i], 12));
    expect(r.total).toEqual([1, 0, 0, 1]);
    expect(r.fracZeroStd).toBe(0);
  });

  it('weights the sum, counts null as 0 in it, and gives an all-null completion advantage 0', () => {
    // totals: 1*1 + 2*1 = 3, 1*0 + 2*null -> 0, all null -> NaN (unscorable), 1*0 + 2*0 = 0
    // over the scorable (3, 0, 0): mean 1; std = sqrt((2^2 + 1^2 + 1^2) / (3 - 1)) = sqrt(3) = 1.7321
    // A = (3 - 1, 0 - 1, -, 0 - 1) / (sqrt(3) + 1e-4); the unscorable one is NaN, then 0
    const r = computeAdvantages([[1, 0, null, 0], [1, null, null, 0]], { groupSize: 4, weights: [1, 2], scaleRewards: 'group', aggregation: 'sum_then_normalize' });
    expect(r.total.slice(0, 2)).toEqual([3, 0]);
    expect(r.total[2]).toBeNaN();
    const s = Math.sqrt(3) + 1e-4;
    r.advantages.forEach((v, i) => expect(v).toBeCloseTo([2 / s, -1 / s, 0, -1 / s][i], 12));
    // rewards/<name>/mean|std leave the nulls out: reward 0 over (1, 0, 0), reward 1 over (1, 0)
    expect(r.perFunction[0].mean).toBeCloseTo(1 / 3, 12);
    expect(r.perFunction[1].mean).toBeCloseTo(0.5, 12);
    expect(r.perFunction[1].std).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('counts zero-std groups', () => {
    const r = computeAdvantages([[0.5, 0.5, 0.2, 0.9]], { groupSize: 2, scaleRewards: 'group', aggregation: 'sum_then_normalize' });
    expect(r.fracZeroStd).toBe(0.5);
    expect(r.groupStd[0]).toBe(0);
    expect(r.advantages.slice(0, 2)).toEqual([0, 0]);
  });

  it('rejects mismatched weights, ragged rewards and groups that do not divide the batch', () => {
    const opts = { groupSize: 2, scaleRewards: 'group', aggregation: 'sum_then_normalize' } as const;
    expect(() => computeAdvantages([[1, 0], [1, 0], [0, 1]], { ...opts, weights: [1, 1], names: ['tfidf', 'format', 'length'] }))
      .toThrow('reward_weights has 2 entries but 3 rewards are configured (tfidf, format, length)');
    expect(() => computeAdvantages([[1, 0], [1]], opts)).toThrow(/reward 1 has 1 values but reward 0 has 2/);
    expect(() => computeAdvantages([[1, 0, 1]], opts)).toThrow('3 completions do not split into groups of 2');
    expect(() => computeAdvantages([], opts)).toThrow(/no reward functions/);
  });
});
