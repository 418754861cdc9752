import { z } from 'zod';
import { SamplingSettings } from './generate.ts';

// grpo: online GRPO with TRL's GRPOConfig names and defaults (TRL 1.x), for one machine.
// Where a default differs from TRL's, the comment says why.

/**
 * TRL options ragrpo does not implement, refused by name with the reason (never silently ignored).
 * The reward settings TRL keeps in GRPOConfig live in the reward: section here, where the reward
 * stage and grpo-train both read them (through reward_spec.json).
 */
export const TRL_OPTIONS_NOT_HERE: Record<string, string> = {
  reward_weights: 'set it in the reward: section (grpo-train scores with the reward stage\'s spec)',
  scale_rewards: 'set it in the reward: section (grpo-train computes advantages as the reward stage does)',
  multi_objective_aggregation: 'set it in the reward: section',
  reward_funcs: 'set it in the reward: section',
  use_vllm: 'not implemented: ragrpo samples with its own engine (onnxruntime), not vLLM',
  vllm_mode: 'not implemented: no vLLM', vllm_gpu_memory_utilization: 'not implemented: no vLLM',
  vllm_importance_sampling_correction: 'not implemented: no vLLM (sampling and training use the same engine)',
  use_liger_loss: 'not implemented: the loss is built in ragrpo\'s own graph',
  sync_ref_model: 'not implemented: the reference model is the frozen start policy',
  ref_model_sync_steps: 'not implemented: the reference model is the frozen start policy',
  ref_model_mixup_alpha: 'not implemented: the reference model is the frozen start policy',
  bf16: 'not implemented: the CPU engine computes in float32', fp16: 'not implemented: the CPU engine computes in float32',
  gradient_checkpointing: 'not implemented under this name: the engine recomputes activations with `recompute: true`',
  torch_compile: 'not applicable: the engine runs ONNX graphs',
  ds3_gather_for_generation: 'not applicable: one machine, no DeepSpeed (hand the pipeline to TRL for that: export-trl)',
  num_completions_to_print: 'not implemented: every completion goes to completions_log.arrow',
  log_completions: 'always on: every completion goes to completions_log.arrow',
  cast_lm_head_to_fp32: 'not applicable: the engine computes in float32',
};

const GrpoFields = z.strictObject({
  // generation
  num_generations: z.number().int().min(2, { message: 'must be at least 2: a group of one has no relative advantage' }).default(8),
  ...SamplingSettings,
  temperature: z.number().gt(0, { message: 'must be > 0: GRPO needs sampled groups (greedy gives every member the same answer)' }).default(1),
  max_completion_length: z.number().int().positive().default(256),
  /** Completions per generation (TRL); default per_device_train_batch_size * steps_per_generation. */
  generation_batch_size: z.number().int().positive().optional(),
  /** Micro-batches per generation (TRL); default gradient_accumulation_steps: one generation per optimizer step. */
  steps_per_generation: z.number().int().positive().optional(),
  // loss
  loss_type: z.enum(['grpo', 'bnpo', 'dr_grpo', 'dapo']).default('dapo'),
  beta: z.number().min(0).default(0),
  epsilon: z.number().positive().default(0.2),
  /** Unset: epsilon (TRL). DAPO recommends 0.28. */
  epsilon_high: z.number().positive().optional(),
  /** Upper cap on the importance ratio (TRL's two-sided clipping); unset = none. */
  delta: z.number().gt(1).optional(),
  importance_sampling_level: z.enum(['token', 'sequence']).default('token'),
  /** Optimizer passes over each generation; > 1 keeps the sampling-time log-probs as old_logps. */
  num_iterations: z.number().int().positive().default(1),
  mask_truncated_completions: z.boolean().default(false),
  top_entropy_quantile: z.number().gt(0).max(1).default(1),
  // optimiser (transformers TrainingArguments names)
  /** TRL's default 1e-6 is for billion-parameter models; set it for yours. */
  learning_rate: z.number().positive().default(1e-6),
  lr_scheduler_type: z.enum(['linear', 'cosine', 'constant', 'constant_with_warmup']).default('linear'),
  warmup_ratio: z.number().min(0).max(1).default(0),
  warmup_steps: z.number().int().min(0).optional(),
  max_grad_norm: z.number().min(0).default(1),
  weight_decay: z.number().min(0).default(0),
  adam_beta1: z.number().min(0).lt(1).default(0.9),
  adam_beta2: z.number().min(0).lt(1).default(0.999),
  adam_epsilon: z.number().positive().default(1e-8),
  gradient_accumulation_steps: z.number().int().positive().default(1),
  /** Completions per micro-batch (one session run). */
  per_device_train_batch_size: z.number().int().positive().default(8),
  /** -1: num_train_epochs decides. */
  max_steps: z.number().int().min(-1).default(-1),
  num_train_epochs: z.number().positive().default(3),
  /** Unset: the pipeline seed. */
  seed: z.number().int().min(0).optional(),
  save_steps: z.number().int().positive().default(500),
  save_total_limit: z.number().int().positive().optional(),
  logging_steps: z.number().int().positive().default(1),
  /** Continue from the last checkpoint of an interrupted run with the same settings. */
  resume_from_checkpoint: z.boolean().default(true),
  /** Recompute cheap activations in the backward pass (less memory, a little more time). */
  recompute: z.boolean().default(false),
  // past TRL
  /** DAPO's dynamic sampling: drop groups whose rewards all agree and refill them, up to max_attempts extra rounds. */
  dynamic_sampling: z.strictObject({ enabled: z.boolean().default(true), max_attempts: z.number().int().min(0).default(3) }).optional(),
  /** Also write the adapter merged into the base weights as a Hugging Face folder (model/). */
  save_merged_model: z.boolean().default(false),
});

/** Refuses TRL's options that ragrpo does not implement by name, with the reason, before the strict check. */
function refuseUnimplemented(value: unknown, ctx: z.RefinementCtx): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k in TRL_OPTIONS_NOT_HERE) ctx.addIssue({ code: 'custom', path: [k], message: `TRL's ${k}: ${TRL_OPTIONS_NOT_HERE[k]}` });
    else kept[k] = v;
  }
  return kept;
}

export const GrpoSection = z.preprocess(refuseUnimplemented, GrpoFields)
  .refine((g) => g.steps_per_generation === undefined || g.steps_per_generation % g.gradient_accumulation_steps === 0, {
    path: ['steps_per_generation'], message: 'must be a multiple of gradient_accumulation_steps (a generation feeds whole optimizer steps)',
  })
  .refine((g) => g.generation_batch_size === undefined || g.steps_per_generation === undefined, {
    path: ['generation_batch_size'], message: 'give generation_batch_size or steps_per_generation, not both (TRL)',
  });
