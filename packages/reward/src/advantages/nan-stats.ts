/**
 * The NaN-aware reductions TRL's GRPOTrainer uses (torch.nanmean and trl.trainer.utils.nanstd),
 * over plain arrays. NaN marks a missing reward.
 */

/** torch.nanmean: the mean of the non-NaN values; NaN when there are none. */
export function nanmean(xs: readonly number[]): number {
  let sum = 0;
  let n = 0;
  for (const x of xs) if (!Number.isNaN(x)) { sum += x; n++; }
  return n === 0 ? NaN : sum / n;
}

/**
 * trl's nanstd: sqrt(nanmean((x - nanmean(x))^2) * count / (count - 1)), Bessel-corrected like
 * torch.std; NaN when fewer than two values are present (TRL sets the correction to NaN there).
 */
export function nanstd(xs: readonly number[]): number {
  const mean = nanmean(xs);
  let sq = 0;
  let n = 0;
  for (const x of xs) if (!Number.isNaN(x)) { sq += (x - mean) ** 2; n++; }
  return n > 1 ? Math.sqrt((sq / n) * (n / (n - 1))) : NaN;
}

/** torch.nansum: NaN counts as 0. */
export function nansum(xs: readonly number[]): number {
  let sum = 0;
  for (const x of xs) if (!Number.isNaN(x)) sum += x;
  return sum;
}

/** torch.isclose(x, 0) with its defaults (atol 1e-8, rtol 1e-5 of 0): |x| <= 1e-8; NaN is not close. */
export function isCloseToZero(x: number): boolean {
  return Math.abs(x) <= 1e-8;
}
