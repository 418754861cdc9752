/** The two-sided exact sign test of paired differences: are positive and negative changes equally likely? */
export interface SignTest {
  positive: number;
  negative: number;
  /** Differences of exactly zero, left out of the test (the classic sign test). */
  zero: number;
  p_value: number;
}

function logSumExp(xs: number[]): number {
  const m = Math.max(...xs);
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

/**
 * P(X <= k) for X ~ Binomial(n, 1/2), summed in log space so that large n does not underflow:
 * log C(n, i+1) = log C(n, i) + log(n - i) - log(i + 1).
 */
export function binomialCdfHalf(k: number, n: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  const terms: number[] = [];
  let logC = 0;
  for (let i = 0; i <= k; i++) {
    terms.push(logC - n * Math.LN2);
    logC += Math.log(n - i) - Math.log(i + 1);
  }
  return Math.min(1, Math.exp(logSumExp(terms)));
}

/**
 * Exact two-sided p-value on the non-zero differences: min(1, 2 P(X <= min(n+, n-))), X ~ Bin(n+ + n-, 1/2)
 * (for p = 1/2 this equals scipy.stats.binomtest's two-sided p-value). No non-zero difference: p = 1.
 */
export function signTest(diffs: ArrayLike<number>): SignTest {
  let positive = 0;
  let negative = 0;
  let zero = 0;
  for (let i = 0; i < diffs.length; i++) {
    if (diffs[i] > 0) positive++;
    else if (diffs[i] < 0) negative++;
    else zero++;
  }
  const n = positive + negative;
  const p = n === 0 ? 1 : Math.min(1, 2 * binomialCdfHalf(Math.min(positive, negative), n));
  return { positive, negative, zero, p_value: p };
}
