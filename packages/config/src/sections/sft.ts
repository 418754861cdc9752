import { z } from 'zod';

// sft: the warm-up before GRPO: `pretrain` (next-token training on the chunk text, for a scratch
// policy) then `finetune` (the train split's prompts with their reference answers, loss on the
// answer tokens). TRL's SFTConfig / transformers TrainingArguments names; where a default differs
// from TRL's, the comment says why. The seed is the pipeline's (streams derived per phase).

const phaseFields = {
  /** Optimizer steps; unset: num_train_epochs decides. */
  max_steps: z.number().int().positive().optional(),
  /** Passes over the data (fractional allowed, as transformers); used when max_steps is unset. */
  num_train_epochs: z.number().positive().optional(),
  /** Sequences per micro-batch (one session run). */
  per_device_train_batch_size: z.number().int().positive().default(8),
  /** Micro-batches per optimizer step. */
  gradient_accumulation_steps: z.number().int().positive().default(1),
  lr_scheduler_type: z.enum(['linear', 'cosine', 'constant', 'constant_with_warmup']).default('linear'),
  warmup_ratio: z.number().min(0).max(1).optional(),
  warmup_steps: z.number().int().min(0).optional(),
  weight_decay: z.number().min(0).default(0),
  max_grad_norm: z.number().min(0).default(1),
  adam_beta1: z.number().min(0).lt(1).default(0.9),
  adam_beta2: z.number().min(0).lt(1).default(0.999),
  adam_epsilon: z.number().positive().default(1e-8),
};

type PhaseShape = { max_steps?: number; num_train_epochs?: number; lr_scheduler_type: string; warmup_ratio?: number; warmup_steps?: number };

function phaseChecks<T extends z.ZodType<PhaseShape>>(schema: T) {
  return schema
    .refine((p) => p.max_steps === undefined || p.num_train_epochs === undefined, {
      path: ['num_train_epochs'], message: 'give max_steps or num_train_epochs, not both',
    })
    .refine((p) => p.warmup_ratio === undefined || p.warmup_steps === undefined, {
      path: ['warmup_steps'], message: 'give warmup_ratio or warmup_steps, not both',
    })
    .refine((p) => p.lr_scheduler_type !== 'constant' || !(p.warmup_steps || p.warmup_ratio), {
      path: ['lr_scheduler_type'], message: "'constant' has no warmup (transformers ignores it); use constant_with_warmup",
    });
}

export const SftPretrain = phaseChecks(z.strictObject({
  ...phaseFields,
  /** Length of the packed sequences (tokens); unset: 1024 (TRL), capped at the policy's max_seq_length. */
  max_length: z.number().int().min(2).optional(),
  /** A random-init model needs a far larger rate than TRL's 2e-5 (nanoGPT-size models train at ~1e-3). */
  learning_rate: z.number().positive().default(1e-3),
}));

export const SftFinetune = phaseChecks(z.strictObject({
  ...phaseFields,
  /** prompt + answer tokens at most (the answer's end is cut); unset: the policy's max_seq_length. */
  max_length: z.number().int().min(2).optional(),
  learning_rate: z.number().positive().default(2e-5),
  /** TRL: loss on the answer tokens only (true) or on the prompt too (false). */
  completion_only_loss: z.boolean().default(true),
}));

export const SftSection = z.strictObject({
  pretrain: SftPretrain.optional(),
  finetune: SftFinetune.optional(),
  /** Held-out (test split) loss every this many steps, besides at the start and the end of each phase (0: only those). */
  eval_steps: z.number().int().min(0).default(0),
  /** A progress line (loss, tokens/s, ETA) every this many steps (TRL's SFTConfig default). */
  logging_steps: z.number().int().positive().default(10),
  /** Sequences per held-out forward pass. */
  per_device_eval_batch_size: z.number().int().positive().default(8),
}).refine((s) => s.pretrain || s.finetune, { message: 'configure pretrain, finetune or both (an empty sft: section trains nothing; remove it to use the policy as is)' });
