import { z } from 'zod';

// policy: the model every learning stage starts from, as a Hugging Face folder.

/** A Llama-family shape for `scratch`, with the tokenizer trained on the ingested chunks. */
const Scratch = z.strictObject({
  arch: z.enum(['llama', 'llama3', 'qwen2', 'mistral', 'smollm']).default('llama'),
  /** Byte-level BPE vocabulary size (256 byte tokens + merges + 5 special/think tokens). */
  vocab_size: z.number().int().min(264).default(2048),
  num_hidden_layers: z.number().int().positive().default(4),
  hidden_size: z.number().int().positive().default(128),
  num_attention_heads: z.number().int().positive().default(4),
  num_key_value_heads: z.number().int().positive().optional(),
  intermediate_size: z.number().int().positive().default(384),
  max_position_embeddings: z.number().int().positive().default(1024),
  /** Standard deviation of the normal init of linear and embedding weights. */
  initializer_range: z.number().positive().default(0.02),
  /** Characters of chunk text the BPE trainer reads at most (the corpus is the ingested chunks). */
  max_training_chars: z.number().int().positive().default(4_000_000),
}).refine((s) => s.hidden_size % s.num_attention_heads === 0, { path: ['hidden_size'], message: 'must be a multiple of num_attention_heads' });

/** PEFT's LoraConfig names. */
const Lora = z.strictObject({
  r: z.number().int().positive().default(8),
  lora_alpha: z.number().positive().default(16),
  lora_dropout: z.number().min(0).max(1).default(0),
  target_modules: z.array(z.enum(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'])).min(1).default(['q_proj', 'v_proj']),
});

export const PolicySection = z.strictObject({
  /** A hub id or a local folder in the Hugging Face layout (recorded by a digest of its files, not copied). */
  model: z.string().min(1).optional(),
  /** Build the model here: a BPE tokenizer trained on the chunks and seeded random weights of this shape. */
  scratch: Scratch.optional(),
  /**
   * A llama.cpp GGUF file (Llama/Qwen2; F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K),
   * imported by @ragrpo/gguf into the stage's model/ folder (weights dequantized to F32).
   */
  gguf: z.string().min(1).optional(),
  /** Where hub ids are looked up (<models_dir>/<hub id>) and, with allow_remote, downloaded to. */
  models_dir: z.string().default('models'),
  /** Allow downloading a hub id. Off by default: offline runs never reach for the network. */
  allow_remote: z.boolean().default(false),
  revision: z.string().default('main'),
  /** What later stages train: a LoRA adapter over frozen weights, or every weight. */
  trainable: z.enum(['lora', 'full']).default('lora'),
  lora: Lora.default({ r: 8, lora_alpha: 16, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'] }),
  /** Weights are computed in float32 on the CPU engine; bf16/f16 files are widened on load. */
  dtype: z.enum(['float32']).default('float32'),
  /** Longest prompt + completion any stage runs; at most the model's max_position_embeddings. */
  max_seq_length: z.number().int().positive().default(1024),
}).refine((p) => (p.model ? 1 : 0) + (p.scratch ? 1 : 0) + (p.gguf ? 1 : 0) === 1, {
  message: 'give exactly one of model (a hub id or a folder), scratch (a shape to build) or gguf (a .gguf file to import)',
});
