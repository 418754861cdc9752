// Group-relative advantages (TRL's GRPOTrainer): each reward against its group of G completions of one prompt.

/**
 * Group-relative advantages as in GRPO: each reward minus its group's mean, divided by the group's standard
 * deviation (unbiased, as torch.std) + 1e-4 when `scale` is 'group' (TRL's default), by the batch standard
 * deviation for 'batch', or not at all for 'none' (Dr. GRPO). `rewards` are laid out group after group.
 */
export function groupAdvantages(rewards: readonly number[], groupSize: number, scale: 'group' | 'batch' | 'none' = 'group'): number[] {
  if (!Number.isInteger(groupSize) || groupSize < 1 || rewards.length % groupSize !== 0) {
    throw new Error(`${rewards.length} rewards do not split into groups of ${groupSize}`);
  }
  rewards.forEach((r, i) => {
    if (!Number.isFinite(r)) throw new Error(`reward ${i} is ${r}; rewards must be finite numbers`);
  });
  const std = (xs: readonly number[]) => {
    if (xs.length < 2) return 0;
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  };
  const batchStd = std(rewards);
  const out: number[] = [];
  for (let start = 0; start < rewards.length; start += groupSize) {
    const group = rewards.slice(start, start + groupSize);
    const mean = group.reduce((a, b) => a + b, 0) / groupSize;
    const s = scale === 'group' ? std(group) : scale === 'batch' ? batchStd : null;
    for (const r of group) out.push(s === null ? r - mean : (r - mean) / (s + 1e-4));
  }
  return out;
}
