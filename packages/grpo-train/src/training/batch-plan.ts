import type { GrpoConfig } from '@ragrpo/config';

/**
 * How TRL's batch options fit together on one process:
 *   optimizer batch   = per_device_train_batch_size x gradient_accumulation_steps completions (one step)
 *   generation batch  = generation_batch_size completions
 *                     = per_device_train_batch_size x steps_per_generation (default steps_per_generation =
 *                       gradient_accumulation_steps: one generation per optimizer step)
 *   prompts per generation = generation batch / num_generations
 *   each generation feeds (generation batch / optimizer batch) optimizer steps, num_iterations times over.
 */
export interface BatchPlan {
  microBatch: number;
  optimizerBatch: number;
  generationBatch: number;
  promptsPerGeneration: number;
  stepsPerGeneration: number;
  iterations: number;
  /** Optimizer steps in the whole run. */
  totalSteps: number;
  /** Old log-probs are needed when the policy moves between sampling and training (TRL's condition). */
  needsOldLogprobs: boolean;
}

export function batchPlan(g: GrpoConfig, trainPrompts: number): BatchPlan {
  const microBatch = g.per_device_train_batch_size;
  const optimizerBatch = microBatch * g.gradient_accumulation_steps;
  const generationBatch = g.generation_batch_size ?? microBatch * (g.steps_per_generation ?? g.gradient_accumulation_steps);
  if (generationBatch % g.num_generations !== 0) {
    throw new Error(`grpo: the generation batch (${generationBatch} completions: generation_batch_size, or per_device_train_batch_size x steps_per_generation) must be a multiple of num_generations (${g.num_generations})`);
  }
  if (generationBatch % optimizerBatch !== 0) {
    throw new Error(`grpo: the generation batch (${generationBatch} completions) must be a multiple of per_device_train_batch_size x gradient_accumulation_steps (${optimizerBatch})`);
  }
  const promptsPerGeneration = generationBatch / g.num_generations;
  const stepsPerGeneration = generationBatch / optimizerBatch;
  const generationsPerEpoch = Math.ceil(trainPrompts / promptsPerGeneration);
  const totalSteps = g.max_steps > 0
    ? g.max_steps
    : Math.max(1, Math.ceil(generationsPerEpoch * g.num_train_epochs) * stepsPerGeneration * g.num_iterations);
  return {
    microBatch, optimizerBatch, generationBatch, promptsPerGeneration, stepsPerGeneration, iterations: g.num_iterations, totalSteps,
    needsOldLogprobs: g.num_iterations > 1 || stepsPerGeneration > 1,
  };
}
