import { streamSeed } from '@ragrpo/config';
import { bootstrapInterval, type Interval } from './bootstrap.ts';
import { signTest } from './sign-test.ts';

export interface Difference extends Interval {
  p_value: number;
  positive: number;
  negative: number;
  ties: number;
}

export interface RewardComparison {
  before: Interval;
  /** null when the pipeline has no trained policy. */
  after: Interval | null;
  difference: Difference | null;
}

export interface CompareOptions {
  resamples: number;
  confidence: number;
  seed: number;
}

/**
 * One reward's per-question scores (the mean over a question's samples; null where the reward
 * gave none): the mean of each policy with its bootstrap interval, and the paired difference
 * after - before over the questions both policies have a score for, resampled by question, with
 * the sign test's p-value. Each interval has its own seeded stream (pipeline seed, reward, part).
 */
export function compareReward(name: string, before: (number | null)[], after: (number | null)[] | null, o: CompareOptions): RewardComparison {
  const present = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null && Number.isFinite(x));
  const seed = (part: string) => streamSeed(o.seed, `evaluate:bootstrap:${name}:${part}`);
  const b = bootstrapInterval(present(before), { ...o, seed: seed('before') });
  if (!after) return { before: b, after: null, difference: null };
  if (after.length !== before.length) throw new Error(`reward ${name}: ${before.length} questions before and ${after.length} after`);
  const a = bootstrapInterval(present(after), { ...o, seed: seed('after') });
  const diffs: number[] = [];
  before.forEach((x, i) => {
    const y = after[i];
    if (x !== null && y !== null && Number.isFinite(x) && Number.isFinite(y)) diffs.push(y - x);
  });
  const d = bootstrapInterval(diffs, { ...o, seed: seed('difference') });
  const s = signTest(diffs);
  return { before: b, after: a, difference: { ...d, p_value: s.p_value, positive: s.positive, negative: s.negative, ties: s.zero } };
}

/** Mean of the non-null values, null when there are none (a question's k samples -> one score). */
export function meanOrNull(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? v.reduce((s, x) => s + x, 0) / v.length : null;
}

/** "+0.12 [0.05, 0.19]": a difference as a reader sees it. */
export function formatInterval(i: Interval, digits = 3, signed = false): string {
  if (!Number.isFinite(i.mean)) return 'n/a';
  const f = (x: number) => x.toFixed(digits);
  return `${signed && i.mean >= 0 ? '+' : ''}${f(i.mean)} [${f(i.ci_low)}, ${f(i.ci_high)}]`;
}
