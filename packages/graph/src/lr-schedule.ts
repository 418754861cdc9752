/**
 * Learning-rate schedules with linear warmup, following Hugging Face transformers'
 * get_{constant,linear,cosine}_schedule_with_warmup: `step` is the 0-based optimiser
 * step; warmup ramps base*step/warmupSteps, then constant, linear decay to 0 at
 * totalSteps, or half-cosine decay to 0 at totalSteps.
 */
export interface LrScheduleOptions {
  base: number;
  warmupSteps: number;
  totalSteps: number;
  schedule: 'constant' | 'linear' | 'cosine';
}

export function learningRate(step: number, opts: LrScheduleOptions): number {
  const { base, warmupSteps, totalSteps, schedule } = opts;
  if (!Number.isInteger(step) || step < 0) throw new Error(`learningRate: step must be a non-negative integer, got ${step}`);
  if (!(base >= 0)) throw new Error(`learningRate: base must be >= 0, got ${base}`);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new Error(`learningRate: warmupSteps must be a non-negative integer, got ${warmupSteps}`);
  if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new Error(`learningRate: totalSteps must be a positive integer, got ${totalSteps}`);
  if (schedule !== 'constant' && schedule !== 'linear' && schedule !== 'cosine') {
    throw new Error(`learningRate: schedule must be constant, linear or cosine, got '${String(schedule)}'`);
  }
  if (step < warmupSteps) return (base * step) / warmupSteps;
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / decaySteps);
  switch (schedule) {
    case 'constant':
      return base;
    case 'linear':
      return base * (1 - progress);
    case 'cosine':
      return base * 0.5 * (1 + Math.cos(Math.PI * progress));
  }
}
