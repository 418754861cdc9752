// Online GRPO, one optimizer step at a time (TRL's GRPOTrainer on one process):
//   1. when no sampled rollouts are pending, draw the next prompts, sample num_generations
//      completions each from the CURRENT policy, score them, drop-and-refill groups whose rewards
//      all agree (dynamic sampling), compute the group-relative advantages, shuffle, and cut the
//      generation batch into optimizer batches;
//   2. train on the next optimizer batch: the clipped surrogate with old log-probs from sampling
//      time (when the policy has moved since), plus beta * KL to the frozen reference;
//   3. log TRL's metrics, and every save_steps write a checkpoint that holds the pending rollouts.
// Every random choice derives from (seed, generation index) or (seed, step), so the state to
// resume from is a handful of integers plus the pending rollouts.
import { streamSeed, type GrpoConfig } from '@ragrpo/config';
import type { SamplingSettings } from '@ragrpo/generate';
import { Trainer, type GrpoExample, type Policy, type Tokenizer } from '@ragrpo/model';
import type { NamedReward, RewardSpec } from '@ragrpo/reward';
import { batchPlan, type BatchPlan } from './batch-plan.ts';
import { metricsRow } from './metrics.ts';
import { permutation, PromptSampler } from './prompt-sampler.ts';
import { assignAdvantages, carriesSignal, sampleGroups, type GenerationStats, type Rollout, type TrainPrompt } from './rollouts.ts';
import type { LoopState, PendingGeneration, RunState } from './run-state.ts';

export interface GrpoRun {
  settings: GrpoConfig;
  seed: number;
  policy: Policy;
  tokenizer: Tokenizer;
  prompts: TrainPrompt[];
  spec: RewardSpec;
  rewards: NamedReward[];
  /** sha256 of reward_spec.json: provenance of every logged completion. */
  specDigest: string;
  runState: RunState;
  onStep?: (row: Record<string, number | null>, plan: BatchPlan) => void;
  onCheckpoint?: (dir: string, step: number) => void;
  onResume?: (dir: string, step: number) => void;
}

export interface GrpoResult {
  trainer: Trainer;
  plan: BatchPlan;
  state: LoopState;
}

function samplingOf(g: GrpoConfig): SamplingSettings {
  return { temperature: g.temperature, top_p: g.top_p, top_k: g.top_k, min_p: g.min_p, repetition_penalty: g.repetition_penalty, max_completion_length: g.max_completion_length, stop: g.stop };
}

function createTrainer(run: GrpoRun, plan: BatchPlan): Trainer {
  const g = run.settings;
  const warmupSteps = g.warmup_steps ?? Math.ceil(g.warmup_ratio * plan.totalSteps);
  return new Trainer(run.policy, {
    lr: g.learning_rate,
    betas: [g.adam_beta1, g.adam_beta2],
    eps: g.adam_epsilon,
    weightDecay: g.weight_decay,
    schedule: g.lr_scheduler_type === 'constant' || g.lr_scheduler_type === 'constant_with_warmup' ? 'constant' : g.lr_scheduler_type,
    warmupSteps: g.lr_scheduler_type === 'constant' ? 0 : warmupSteps,
    totalSteps: plan.totalSteps,
    maxGradNorm: g.max_grad_norm,
    microBatchSize: plan.microBatch,
    recompute: g.recompute,
    temperature: g.temperature,
    seed: run.seed,
    keepCheckpoints: g.save_total_limit ?? 2,
    grpo: {
      epsilonLow: g.epsilon,
      epsilonHigh: g.epsilon_high ?? g.epsilon,
      beta: g.beta,
      lossType: g.loss_type,
      maxCompletionLength: g.max_completion_length,
      maskTruncatedCompletions: g.mask_truncated_completions,
      importanceSamplingLevel: g.importance_sampling_level,
      delta: g.delta,
      topEntropyQuantile: g.top_entropy_quantile,
    },
  });
}

/** One generation batch: sampled, scored, refilled where groups carry no signal, advantaged, shuffled and cut. */
async function generate(run: GrpoRun, plan: BatchPlan, sampler: PromptSampler, index: number, step: number): Promise<{ pending: PendingGeneration; rollouts: Rollout[] }> {
  const g = run.settings;
  const G = g.num_generations;
  const sampling = samplingOf(g);
  const draw = async (n: number, attempt: number) => {
    const prompts = sampler.next(n).map((i) => run.prompts[i]);
    return { prompts, ...(await sampleGroups(run.policy, run.tokenizer, prompts, { sampling, groupSize: G, seed: streamSeed(run.seed, `grpo:generation:${index}:${attempt}`), spec: run.spec, rewards: run.rewards })) };
  };
  const first = await draw(plan.promptsPerGeneration, 0);
  let samplingSeconds = first.samplingSeconds;
  let scoringSeconds = first.scoringSeconds;
  let groups: Rollout[][] = Array.from({ length: plan.promptsPerGeneration }, (_, i) => first.rollouts.slice(i * G, (i + 1) * G));
  let resampled = 0;
  if (g.dynamic_sampling?.enabled) {
    // DAPO: a group whose rewards all agree has zero advantage everywhere: replace it with fresh prompts' groups.
    const informative = (grp: Rollout[]) => carriesSignal(grp, run.spec);
    const keep = groups.filter(informative);
    const dropped = groups.filter((grp) => !informative(grp));
    const firstDropped = dropped.length;
    for (let attempt = 1; attempt <= g.dynamic_sampling.max_attempts && keep.length < plan.promptsPerGeneration; attempt++) {
      const more = await draw(plan.promptsPerGeneration - keep.length, attempt);
      samplingSeconds += more.samplingSeconds;
      scoringSeconds += more.scoringSeconds;
      for (let i = 0; i < more.prompts.length; i++) {
        const grp = more.rollouts.slice(i * G, (i + 1) * G);
        (informative(grp) ? keep : dropped).push(grp);
      }
    }
    // Out of attempts: the batch keeps its size with groups that carry no signal (their advantages are 0).
    const shortfall = Math.max(0, plan.promptsPerGeneration - keep.length);
    resampled = firstDropped - Math.min(shortfall, firstDropped);
    groups = [...keep.slice(0, plan.promptsPerGeneration), ...dropped.slice(0, shortfall)];
  }
  const rollouts = groups.flat();
  rollouts.forEach((r, i) => { r.groupIndex = i % G; });
  const adv = assignAdvantages(rollouts, G, run.spec);
  // TRL shuffles the generation batch before cutting it into optimizer batches.
  const order = permutation(rollouts.length, streamSeed(run.seed, `grpo:shuffle:${index}`));
  const shuffled = order.map((i) => rollouts[i]);
  const batches = Array.from({ length: plan.stepsPerGeneration }, (_, s) => shuffled.slice(s * plan.optimizerBatch, (s + 1) * plan.optimizerBatch));
  const stats: GenerationStats = {
    reward: adv.reward, rewardStd: adv.rewardStd, fracZeroStd: adv.fracZeroStd, perFunction: adv.perFunction,
    resampledGroups: resampled, samplingSeconds, scoringSeconds,
    completionTokens: rollouts.reduce((n, r) => n + r.completionIds.length, 0),
    promptTokens: rollouts.reduce((n, r) => n + r.promptIds.length, 0),
  };
  return { pending: { index, step, batches, iteration: 0, next: 0, stats }, rollouts };
}

function logRows(run: GrpoRun, rollouts: Rollout[], step: number): Record<string, unknown>[] {
  const config = JSON.stringify(samplingOf(run.settings));
  return rollouts.map((r) => ({
    step, question_id: r.questionId, group_index: r.groupIndex, prompt: r.prompt, completion: r.text, answer: r.answer, reasoning: r.reasoning,
    completion_tokens: r.completionIds.length, finish_reason: r.finishReason, total: r.total, advantage: r.advantage,
    generation_config: config, reward_spec_digest: run.specDigest,
    ...Object.fromEntries(run.spec.reward_funcs.map((n, k) => [`reward_${n}`, r.rewards[k]])),
  }));
}

/** Runs (or resumes) the whole GRPO training; the trainer's policy holds the trained weights after it. */
export async function trainGrpo(run: GrpoRun): Promise<GrpoResult> {
  const g = run.settings;
  const plan = batchPlan(g, run.prompts.length);
  const trainer = createTrainer(run, plan);
  const resumed = g.resume_from_checkpoint ? run.runState.latest() : null;
  let state: LoopState;
  if (resumed) {
    await trainer.resume(resumed.checkpoint);
    state = resumed.state;
    run.onResume?.(resumed.checkpoint, state.step);
  } else {
    await run.runState.start();
    state = { step: 0, sampler: { epoch: 0, index: 0 }, generations: 0, numTokens: 0, pending: null, metrics: [], log: [] };
  }
  const sampler = new PromptSampler(run.prompts.length, streamSeed(run.seed, 'grpo:prompts'), state.sampler);

  while (trainer.step < plan.totalSteps) {
    const started = performance.now();
    let sampling = 0;
    let scoring = 0;
    if (!state.pending) {
      const { pending, rollouts } = await generate(run, plan, sampler, state.generations, trainer.step + 1);
      state.log.push(...logRows(run, rollouts, trainer.step + 1));
      state.pending = pending;
      state.generations++;
      state.numTokens += pending.stats.promptTokens + pending.stats.completionTokens;
      sampling = pending.stats.samplingSeconds;
      scoring = pending.stats.scoringSeconds;
    }
    const pending = state.pending;
    const batch = pending.batches[pending.next];

    // Reference log-probs (beta > 0) from the frozen base: the same policy object without its adapter.
    let t = performance.now();
    const ref = g.beta > 0
      ? await run.policy.logprobs(batch.map((r) => ({ promptIds: r.promptIds, completionIds: r.completionIds })), { reference: true, temperature: g.temperature, batchSize: plan.microBatch })
      : null;
    const logprobs = (performance.now() - t) / 1000;
    const examples: GrpoExample[] = batch.map((r, i) => ({
      promptIds: r.promptIds, completionIds: r.completionIds, advantage: r.advantage, truncated: r.truncated,
      ...(plan.needsOldLogprobs ? { oldLogprobs: r.logprobs } : {}),
      ...(ref ? { refLogprobs: ref[i] } : {}),
    }));
    t = performance.now();
    // dapo's normaliser is the active tokens of the whole generation batch (TRL's num_items_in_batch).
    const m = await trainer.grpoStep(examples, { generationBatchTokens: Math.max(1, pending.stats.completionTokens) });
    const trainSeconds = (performance.now() - t) / 1000;
    const timing = m.timing;

    pending.next++;
    if (pending.next === pending.batches.length) { pending.next = 0; pending.iteration++; }
    if (pending.iteration === plan.iterations) state.pending = null;
    state.step = trainer.step;
    state.sampler = sampler.state;
    const row = metricsRow(m, batch, pending.stats, run.spec, {
      epoch: sampler.epochs, numTokens: state.numTokens, beta: g.beta,
      times: {
        sampling, scoring, logprobs,
        forwardBackward: timing ? timing.forwardBackward / 1000 : trainSeconds, optimizer: timing ? timing.optimizer / 1000 : 0,
        step: (performance.now() - started) / 1000,
      },
    });
    state.metrics.push(row);
    if (trainer.step % g.logging_steps === 0 || trainer.step === plan.totalSteps) run.onStep?.(row, plan);
    if (trainer.step % g.save_steps === 0 && trainer.step < plan.totalSteps) {
      const dir = await run.runState.save(trainer, state);
      run.onCheckpoint?.(dir, trainer.step);
    }
  }
  return { trainer, plan, state };
}
