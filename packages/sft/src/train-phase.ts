import { mulberry32, streamSeed } from '@ragrpo/config';
import { Trainer, type Policy, type SftExample } from '@ragrpo/model';
import { permutation } from './examples.ts';

/** The optimiser keys both phases share (TrainingArguments names). */
export interface PhaseSettings {
  max_steps?: number;
  num_train_epochs?: number;
  per_device_train_batch_size: number;
  gradient_accumulation_steps: number;
  learning_rate: number;
  lr_scheduler_type: 'linear' | 'cosine' | 'constant' | 'constant_with_warmup';
  warmup_ratio?: number;
  warmup_steps?: number;
  weight_decay: number;
  max_grad_norm: number;
  adam_beta1: number;
  adam_beta2: number;
  adam_epsilon: number;
}

/** transformers' TrainingArguments default when neither max_steps nor num_train_epochs is given. */
export const DEFAULT_EPOCHS = 3;

export interface PhasePlan {
  /** Sequences per optimizer step (batch size x accumulation). */
  perStep: number;
  stepsPerEpoch: number;
  totalSteps: number;
  warmupSteps: number;
}

/** Steps and warmup as transformers counts them: ceil over the last partial batch of an epoch, warmup ceil(ratio * steps). */
export function planPhase(s: PhaseSettings, items: number): PhasePlan {
  if (items < 1) throw new Error('nothing to train on');
  const perStep = s.per_device_train_batch_size * s.gradient_accumulation_steps;
  const stepsPerEpoch = Math.ceil(items / perStep);
  const totalSteps = s.max_steps ?? Math.max(1, Math.ceil((s.num_train_epochs ?? DEFAULT_EPOCHS) * stepsPerEpoch));
  const warmupSteps = s.warmup_steps ?? Math.ceil((s.warmup_ratio ?? 0) * totalSteps);
  return { perStep, stepsPerEpoch, totalSteps, warmupSteps };
}

/** The optimizer batches of a phase: each epoch a fresh seeded order; an epoch's last batch may be smaller. */
export function* phaseBatches(items: number, perStep: number, totalSteps: number, seed: number, phase: string): Generator<{ epoch: number; indices: number[] }> {
  let epoch = 0;
  let order = permutation(items, mulberry32(streamSeed(seed, `sft.${phase}.epoch.0`)));
  let at = 0;
  for (let step = 0; step < totalSteps; step++) {
    if (at >= items) {
      epoch++;
      order = permutation(items, mulberry32(streamSeed(seed, `sft.${phase}.epoch.${epoch}`)));
      at = 0;
    }
    const indices = order.slice(at, at + perStep);
    at += indices.length;
    yield { epoch, indices };
  }
}

export interface LossRow {
  phase: 'pretrain' | 'finetune';
  step: number;
  loss: number;
  eval_loss: number | null;
  learning_rate: number;
  tokens: number;
}

export interface PhaseResult {
  rows: LossRow[];
  plan: PhasePlan;
  steps: number;
  /** Epochs the phase saw (fractional: optimizer sequences / items). */
  epochs: number;
  firstLoss: number;
  finalLoss: number;
  /** Tokens that carried loss, and every real token the steps ran (prompt + completion). */
  lossTokens: number;
  sequenceTokens: number;
  /** Seconds in optimizer steps (held-out passes not included). */
  trainSeconds: number;
  evalSeconds: number;
  /** Held-out loss before the first update and after the last (null without held-out examples). */
  evalBefore: number | null;
  evalAfter: number | null;
}

export interface PhaseOptions {
  phase: 'pretrain' | 'finetune';
  policy: Policy;
  items: readonly SftExample[];
  settings: PhaseSettings;
  /** The stage's seed: data order per epoch and LoRA dropout masks derive from it. */
  seed: number;
  /** The held-out loss of the current weights (no gradient); none: eval_loss stays null. */
  evaluate?: () => Promise<number>;
  /** The held-out loss of the start weights when already known (the previous phase's last): not measured again. */
  evalBefore?: number | null;
  /** Held-out loss every this many steps besides the start and the end (0: only those). */
  evalSteps: number;
  loggingSteps: number;
  /** Called every loggingSteps steps and at the last step. */
  onLog?: (p: { step: number; total: number; stepsSinceLog: number; loss: number; tokensPerSecond: number }) => void;
}

/**
 * One phase: a fresh AdamW (as one transformers run) over the policy's trained tensors, the schedule over the
 * phase's steps, the token-mean SFT loss per optimizer batch. Row k (k >= 1) is step k: its batch's loss at the
 * weights before the update (what transformers logs), the rate it used, and the held-out loss after the update
 * when evaluated. Row 0 (only with held-out examples) is the start: eval_loss before any update, loss = step 1's.
 */
export async function runPhase(o: PhaseOptions): Promise<PhaseResult> {
  const s = o.settings;
  const plan = planPhase(s, o.items.length);
  const trainer = new Trainer(o.policy, {
    lr: s.learning_rate,
    betas: [s.adam_beta1, s.adam_beta2],
    eps: s.adam_epsilon,
    weightDecay: s.weight_decay,
    schedule: s.lr_scheduler_type === 'constant_with_warmup' ? 'constant' : s.lr_scheduler_type,
    warmupSteps: plan.warmupSteps,
    totalSteps: plan.totalSteps,
    maxGradNorm: s.max_grad_norm,
    microBatchSize: s.per_device_train_batch_size,
    seed: streamSeed(o.seed, `sft.${o.phase}.dropout`),
  });
  const rows: LossRow[] = [];
  let evalSeconds = 0;
  const evaluate = async (): Promise<number | null> => {
    if (!o.evaluate) return null;
    const t = performance.now();
    const v = await o.evaluate();
    evalSeconds += (performance.now() - t) / 1000;
    return v;
  };
  const evalBefore = o.evalBefore ?? (await evaluate());
  if (evalBefore !== null) rows.push({ phase: o.phase, step: 0, loss: NaN, eval_loss: evalBefore, learning_rate: 0, tokens: 0 });
  let lossTokens = 0;
  let sequenceTokens = 0;
  let trainSeconds = 0;
  let sequences = 0;
  let lastLog = 0;
  let logTokens = 0;
  let logSeconds = 0;
  let evalAfter: number | null = null;
  for (const { indices } of phaseBatches(o.items.length, plan.perStep, plan.totalSteps, o.seed, o.phase)) {
    const batch = indices.map((i) => o.items[i]);
    const t = performance.now();
    const m = await trainer.sftStep(batch);
    const secs = (performance.now() - t) / 1000;
    const seqTokens = batch.reduce((a, e) => a + e.promptIds.length + e.completionIds.length, 0);
    trainSeconds += secs;
    logSeconds += secs;
    logTokens += seqTokens;
    sequenceTokens += seqTokens;
    lossTokens += m.tokens;
    sequences += batch.length;
    const last = m.step === plan.totalSteps;
    const evalNow = last || (o.evalSteps > 0 && m.step % o.evalSteps === 0);
    const evalLoss = evalNow ? await evaluate() : null;
    if (last) evalAfter = evalLoss;
    rows.push({ phase: o.phase, step: m.step, loss: m.loss, eval_loss: evalLoss, learning_rate: m.lr, tokens: m.tokens });
    if (m.step === 1 && rows[0]?.step === 0) rows[0].loss = m.loss;
    if (last || m.step % o.loggingSteps === 0) {
      o.onLog?.({ step: m.step, total: plan.totalSteps, stepsSinceLog: m.step - lastLog, loss: m.loss, tokensPerSecond: logTokens / Math.max(logSeconds, 1e-9) });
      lastLog = m.step;
      logTokens = 0;
      logSeconds = 0;
    }
  }
  const trained = rows.filter((r) => r.step > 0);
  return {
    rows, plan, steps: trained.length, epochs: sequences / o.items.length,
    firstLoss: trained[0].loss, finalLoss: trained[trained.length - 1].loss,
    lossTokens, sequenceTokens, trainSeconds, evalSeconds, evalBefore, evalAfter,
  };
}
