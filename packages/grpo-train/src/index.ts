// @ragrpo/grpo-train: online GRPO (TRL's GRPOTrainer semantics and option names) on the engine,
// sampling with generate's library and scoring with reward's.
export { trainGrpo, type GrpoRun, type GrpoResult } from './training/grpo-loop.ts';
export { batchPlan, type BatchPlan } from './training/batch-plan.ts';
export { PromptSampler, permutation, type PromptSamplerState } from './training/prompt-sampler.ts';
export { sampleGroups, assignAdvantages, carriesSignal, type Rollout, type TrainPrompt, type GenerationStats } from './training/rollouts.ts';
export { RunState, type LoopState, type PendingGeneration } from './training/run-state.ts';
export { metricsRow, type StepTimes } from './training/metrics.ts';
export { rowsTable } from './tables.ts';
export { grpoStage } from './stage.ts';
