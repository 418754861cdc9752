/**
 * Group-relative advantages exactly as TRL's GRPOTrainer computes them (trl/trainer/grpo_trainer.py,
 * `_generate_and_score_completions`, TRL 1.x: the version with `multi_objective_aggregation` and the
 * "unscorable" mask). Rows are completions in group order (a group's G completions are adjacent).
 *
 *   x[i][k]      reward k of completion i; null -> NaN
 *   unscorable   every reward of the completion is NaN
 *
 *   sum_then_normalize (TRL's default)
 *     s_i        = nansum_k(w_k * x_ik); NaN when unscorable
 *     A_i        = s_i - nanmean(s over i's group)
 *     group      A_i /= nanstd(s over i's group) + 1e-4
 *     batch      A_i /= nanstd(s over the batch) + 1e-4   (the group mean is still subtracted)
 *     none       A_i unscaled (the group std is still computed, for frac_reward_zero_std)
 *   normalize_then_sum (GDPO: each reward normalised within its group before the sum)
 *     z_ik       = (x_ik - nanmean_g(x_k)) / (nanstd_g(x_k) + 1e-4)
 *     s_i        = nansum_k(w_k * z_ik); NaN when unscorable
 *     A_i        = (s_i - nanmean(s)) / (nanstd(s) + 1e-4)   over the batch; scale_rewards is not used
 *   then         A_i = 0 where it is NaN (unscorable completions, groups with one scorable completion)
 *
 * nanstd is Bessel-corrected and NaN for fewer than two values; with G = 1 the group std is 0
 * (TRL's zeros_like). TRL works in float32 tensors; this works in float64.
 */
import { isCloseToZero, nanmean, nanstd, nansum } from './nan-stats.ts';

export type ScaleRewards = 'group' | 'batch' | 'none';
export type MultiObjectiveAggregation = 'sum_then_normalize' | 'normalize_then_sum';

export interface AdvantageOptions {
  /** Completions per group (TRL's num_generations). */
  groupSize: number;
  /** One weight per reward function (TRL's reward_weights); default all 1. */
  weights?: readonly number[];
  /** The rewards' names, for messages. */
  names?: readonly string[];
  scaleRewards: ScaleRewards;
  aggregation: MultiObjectiveAggregation;
}

export interface AdvantageResult {
  /** The weighted sum of the raw rewards per completion (nansum); NaN where no reward applied. */
  total: number[];
  /** The advantage per completion. */
  advantages: number[];
  /**
   * Per group: the nanstd of the summed rewards before the advantage (the weighted raw sums, or for
   * normalize_then_sum the sums of normalised rewards), TRL's group_std_rewards; NaN below 2 values.
   */
  groupStd: number[];
  /** TRL's frac_reward_zero_std: share of completions whose scaling std is ~0 (see README). */
  fracZeroStd: number;
  /** TRL's rewards/<name>/mean and /std: nanmean and nanstd of each reward over the batch. */
  perFunction: { mean: number; std: number }[];
  /** TRL's `reward` and `reward_std` metrics: nanmean and nanstd of `total`. */
  reward: number;
  rewardStd: number;
}

const EPS = 1e-4;

export function computeAdvantages(rewards: readonly (readonly (number | null)[])[], opts: AdvantageOptions): AdvantageResult {
  const { x, n, k } = checkInputs(rewards, opts);
  const G = opts.groupSize;
  const weights = opts.weights ?? Array(k).fill(1);
  const groups = n / G;
  const unscorable = x.map((row) => row.every(Number.isNaN));
  const weightedSum = (row: number[], i: number) => (unscorable[i] ? NaN : nansum(row.map((v, j) => weights[j] * v)));
  const groupOf = (values: number[], g: number) => values.slice(g * G, (g + 1) * G);

  let summed: number[];
  let advantages: number[];
  let scaleStd: number[];
  if (opts.aggregation === 'sum_then_normalize') {
    summed = x.map(weightedSum);
    const groupMean = Array.from({ length: groups }, (_, g) => nanmean(groupOf(summed, g)));
    const groupStd = Array.from({ length: groups }, (_, g) => (G > 1 ? nanstd(groupOf(summed, g)) : 0));
    const batchStd = n > 1 ? nanstd(summed) : 0;
    scaleStd = summed.map((_, i) => (opts.scaleRewards === 'batch' ? batchStd : groupStd[Math.floor(i / G)]));
    advantages = summed.map((s, i) => {
      const a = s - groupMean[Math.floor(i / G)];
      return opts.scaleRewards === 'none' ? a : a / (scaleStd[i] + EPS);
    });
  } else {
    const z = x.map((row) => row.slice());
    const columns = Array.from({ length: k }, (_, j) => x.map((row) => row[j]));
    for (let g = 0; g < groups; g++) {
      for (let j = 0; j < k; j++) {
        const col = groupOf(columns[j], g);
        const mean = nanmean(col);
        const std = G > 1 ? nanstd(col) : 0;
        for (let r = 0; r < G; r++) z[g * G + r][j] = (col[r] - mean) / (std + EPS);
      }
    }
    summed = z.map(weightedSum);
    const std = n > 1 ? nanstd(summed) : 0;
    const mean = nanmean(summed);
    scaleStd = summed.map(() => std);
    advantages = summed.map((s) => (s - mean) / (std + EPS));
  }

  const total = x.map(weightedSum);
  return {
    total,
    advantages: advantages.map((a) => (Number.isNaN(a) ? 0 : a)),
    groupStd: Array.from({ length: groups }, (_, g) => nanstd(groupOf(summed, g))),
    fracZeroStd: scaleStd.filter(isCloseToZero).length / n,
    perFunction: Array.from({ length: k }, (_, j) => {
      const col = x.map((row) => row[j]);
      return { mean: nanmean(col), std: nanstd(col) };
    }),
    reward: nanmean(total),
    rewardStd: nanstd(total),
  };
}

/** Validates the shapes and turns [function][completion] with nulls into [completion][function] with NaN. */
function checkInputs(rewards: readonly (readonly (number | null)[])[], opts: AdvantageOptions): { x: number[][]; n: number; k: number } {
  const k = rewards.length;
  if (k === 0) throw new Error('computeAdvantages: no reward functions');
  const names = opts.names && opts.names.length === k ? ` (${opts.names.join(', ')})` : '';
  if (opts.weights && opts.weights.length !== k) {
    throw new Error(`reward_weights has ${opts.weights.length} ${opts.weights.length === 1 ? 'entry' : 'entries'} but ${k} ${k === 1 ? 'reward is' : 'rewards are'} configured${names}`);
  }
  if (opts.weights?.some((w) => !Number.isFinite(w))) throw new Error(`reward_weights must be finite numbers, got [${opts.weights.join(', ')}]`);
  const n = rewards[0].length;
  rewards.forEach((r, j) => {
    if (r.length !== n) throw new Error(`reward ${opts.names?.[j] ?? j} has ${r.length} values but reward ${opts.names?.[0] ?? 0} has ${n}`);
  });
  const G = opts.groupSize;
  if (!Number.isInteger(G) || G < 1) throw new Error(`num_generations (group size) must be a positive integer, got ${G}`);
  if (n % G !== 0) throw new Error(`${n} completions do not split into groups of ${G}`);
  const x = Array.from({ length: n }, (_, i) => rewards.map((r) => r[i] ?? NaN));
  return { x, n, k };
}
