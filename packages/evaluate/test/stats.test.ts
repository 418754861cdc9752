import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootstrapInterval, bootstrapMeans, compareReward, exactBootstrapMeans, formatInterval, isExactBootstrap, quantile, signTest } from '../src/index.ts';

// Oracle: tools/reference/evaluate_stats_fixtures.py (scipy.stats.binomtest, itertools enumeration of
// every resample + numpy.quantile, a normal-approximation interval). Re-run it to regenerate.
const fx = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', 'stats.json'), 'utf8'));
const opts = { resamples: 10_000, confidence: 0.95, seed: 42 };

describe('sign test', () => {
  it.each(fx.sign_test as { positive: number; negative: number; p_value: number }[])('$positive up, $negative down: p = $p_value', (c) => {
    const diffs = [...Array(c.positive).fill(0.1), ...Array(c.negative).fill(-0.2), 0, 0];
    const t = signTest(diffs);
    expect(t).toMatchObject({ positive: c.positive, negative: c.negative, zero: 2 });
    expect(t.p_value).toBeCloseTo(c.p_value, 12);
  });
});

describe('percentile bootstrap', () => {
  it('matches numpy.quantile (linear) on a sorted array', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.025)).toBeCloseTo(1.075, 12);
    expect(quantile([7], 0.3)).toBe(7);
  });

  it.each(fx.exact_bootstrap as { values: number[]; confidence: number; mean: number; ci_low: number; ci_high: number }[])(
    'enumerates all n^n resamples of $values exactly (confidence $confidence)', (c) => {
      expect(isExactBootstrap(c.values.length, 10_000)).toBe(true);
      expect(exactBootstrapMeans(c.values)).toHaveLength(c.values.length ** c.values.length);
      const iv = bootstrapInterval(c.values, { ...opts, confidence: c.confidence });
      expect(iv.mean).toBeCloseTo(c.mean, 12);
      expect(iv.ci_low).toBeCloseTo(c.ci_low, 12);
      expect(iv.ci_high).toBeCloseTo(c.ci_high, 12);
    });

  it('Monte Carlo resampling draws from the exact bootstrap distribution when n^n exceeds the resamples', () => {
    const values = fx.exact_bootstrap[6].values as number[];
    const exact = Array.from(exactBootstrapMeans(values)).sort((a, b) => a - b);
    const drawn = Array.from(bootstrapMeans(values, 20_000, 7));
    expect(isExactBootstrap(5, 20_000)).toBe(true);
    expect(isExactBootstrap(5, 1000)).toBe(false);
    // The empirical CDF of 20,000 drawn means against the exact one at its 2.5, 25, 50, 75 and 97.5 % points.
    for (const q of [0.025, 0.25, 0.5, 0.75, 0.975]) {
      const x = quantile(exact, q);
      const cdf = (xs: number[]) => xs.filter((m) => m <= x + 1e-12).length / xs.length;
      expect(Math.abs(cdf(drawn) - cdf(exact))).toBeLessThan(0.01);
    }
  });

  it('is close to the normal approximation on 400 values, and reproducible from its seed', () => {
    const n = fx.normal;
    const iv = bootstrapInterval(n.values, opts);
    expect(iv.mean).toBeCloseTo(n.mean, 12);
    expect(Math.abs(iv.ci_low - n.ci_low)).toBeLessThan(0.15 * n.se);
    expect(Math.abs(iv.ci_high - n.ci_high)).toBeLessThan(0.15 * n.se);
    expect(bootstrapInterval(n.values, opts)).toEqual(iv);
    expect(bootstrapInterval(n.values, { ...opts, seed: 43 })).not.toEqual(iv);
  });

  it('gives NaN for no values', () => {
    expect(bootstrapInterval([], opts)).toEqual({ mean: NaN, ci_low: NaN, ci_high: NaN, n: 0 });
  });
});

describe('paired comparison', () => {
  it('resamples after - before by question and tests its sign', () => {
    const p = fx.paired;
    const c = compareReward('f1', p.before, p.after, opts);
    expect(c.difference!.mean).toBeCloseTo(p.mean, 12);
    expect(c.difference!.ci_low).toBeCloseTo(p.ci_low, 12);
    expect(c.difference!.ci_high).toBeCloseTo(p.ci_high, 12);
    expect(c.difference!.p_value).toBeCloseTo(p.p_value, 12);
    expect(c.difference).toMatchObject({ positive: 2, negative: 1, ties: 1, n: 4 });
    expect(c.before.mean).toBeCloseTo(0.3, 12);
    expect(c.after!.mean).toBeCloseTo(0.4, 12);
  });

  it('leaves out questions a reward gave no score, and compares nothing without an after policy', () => {
    const c = compareReward('judge', [0.1, null, 0.5], [0.3, 0.2, null], opts);
    expect(c.before.n).toBe(2);
    expect(c.after!.n).toBe(2);
    expect(c.difference!.n).toBe(1);
    expect(compareReward('f1', [0.1, 0.2], null, opts)).toMatchObject({ after: null, difference: null });
  });

  it('reads as "+0.12 [0.05, 0.19]"', () => {
    expect(formatInterval({ mean: 0.12, ci_low: 0.05, ci_high: 0.19, n: 9 }, 2, true)).toBe('+0.12 [0.05, 0.19]');
  });
});
