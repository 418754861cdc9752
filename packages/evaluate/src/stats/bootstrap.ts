import { mulberry32 } from '@ragrpo/config';

/** A mean with its percentile bootstrap interval over `n` values (questions). */
export interface Interval {
  mean: number;
  ci_low: number;
  ci_high: number;
  n: number;
}

/**
 * numpy.quantile's default ("linear", Hyndman & Fan type 7) on an ascending array:
 * h = (n - 1) q, x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]).
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return values.length ? s / values.length : NaN;
}

/** Means of `resamples` resamples of `values` with replacement (n draws each), from a seeded mulberry32 stream. */
export function bootstrapMeans(values: ArrayLike<number>, resamples: number, seed: number): Float64Array {
  const n = values.length;
  const rand = mulberry32(seed);
  const out = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(rand() * n)];
    out[b] = s / n;
  }
  return out;
}

/**
 * The exact bootstrap distribution: the means of all n^n equally likely resamples (ordered draws
 * with replacement), for small n. Used instead of Monte Carlo when n^n is at most the resample
 * count, so tiny test splits get the exact interval rather than a noisy estimate of it.
 */
export function exactBootstrapMeans(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const total = n ** n;
  const out = new Float64Array(total);
  const idx = new Int32Array(n);
  for (let t = 0; t < total; t++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[idx[i]];
    out[t] = s / n;
    for (let i = 0; i < n; i++) {
      if (++idx[i] < n) break;
      idx[i] = 0;
    }
  }
  return out;
}

/** Whether bootstrapInterval enumerates every resample (n^n <= resamples) instead of drawing them. */
export function isExactBootstrap(n: number, resamples: number): boolean {
  return n > 0 && n ** n <= resamples;
}

/**
 * The mean of `values` and its percentile bootstrap interval at `confidence`: the (1 - c)/2 and
 * (1 + c)/2 quantiles (numpy's linear rule) of the resampled means. Seeded: the same values and
 * seed give the same interval. Empty input gives NaN everywhere.
 */
export function bootstrapInterval(values: ArrayLike<number>, o: { resamples: number; confidence: number; seed: number }): Interval {
  const n = values.length;
  const m = mean(values);
  if (n === 0) return { mean: NaN, ci_low: NaN, ci_high: NaN, n: 0 };
  const means = isExactBootstrap(n, o.resamples) ? exactBootstrapMeans(values) : bootstrapMeans(values, o.resamples, o.seed);
  means.sort();
  const alpha = (1 - o.confidence) / 2;
  return { mean: m, ci_low: quantile(means, alpha), ci_high: quantile(means, 1 - alpha), n };
}
