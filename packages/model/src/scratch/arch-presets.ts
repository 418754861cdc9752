/**
 * config.json documents for scratch models, one preset per Llama-family architecture (the tiny test models of
 * tools/tiny-llm use them with small sizes):
 *   llama   - LlamaForCausalLM, multi-head attention, untied head
 *   llama3  - Llama 3.1 style: GQA, rope_theta 500000, rope_scaling rope_type llama3
 *   qwen2   - Qwen2ForCausalLM: GQA, q/k/v bias, tied embeddings, rope_theta 1e6, vocab padded past the tokenizer
 *   mistral - MistralForCausalLM: GQA, sliding_window (small, so tests reach past the window)
 *   smollm  - SmolLM (LlamaForCausalLM): multi-query attention (1 kv head), tied embeddings
 * Keys and defaults mirror real checkpoints of each family.
 */

export const SCRATCH_ARCHS = ['llama', 'llama3', 'qwen2', 'mistral', 'smollm'] as const;
export type ScratchArch = (typeof SCRATCH_ARCHS)[number];

export interface ScratchSizes {
  layers: number;
  hidden: number;
  heads: number;
  /** Default depends on the arch (see preset). */
  kvHeads?: number;
  intermediate: number;
  maxPositions: number;
  /** Sliding window for mistral. */
  slidingWindow?: number;
}

export interface ScratchTokenIds {
  bos: number;
  eos: number;
  pad: number;
  /** Tokenizer vocabulary size; config vocab_size is this, padded for qwen2. */
  tokenizerSize: number;
}

export function defaultKvHeads(arch: ScratchArch, heads: number): number {
  switch (arch) {
    case 'llama':
      return heads;
    case 'smollm':
      return 1;
    default:
      return heads % 2 === 0 ? heads / 2 : heads;
  }
}

/** Qwen2 checkpoints pad vocab_size past the tokenizer (151936 vs 151665): mimic it. */
export function configVocabSize(arch: ScratchArch, tokenizerSize: number): number {
  return arch === 'qwen2' ? Math.ceil((tokenizerSize + 1) / 32) * 32 : tokenizerSize;
}

/** The fields every Llama-architecture config.json (Llama, Llama 3, SmolLM) shares. */
const llamaFields = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  attention_bias: false,
  attention_dropout: 0.0,
  mlp_bias: false,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
};

export function scratchConfigJson(arch: ScratchArch, s: ScratchSizes, ids: ScratchTokenIds, torchDtype: string): Record<string, unknown> {
  const kv = s.kvHeads ?? defaultKvHeads(arch, s.heads);
  const common = {
    hidden_act: 'silu',
    hidden_size: s.hidden,
    initializer_range: 0.02,
    intermediate_size: s.intermediate,
    max_position_embeddings: s.maxPositions,
    num_attention_heads: s.heads,
    num_hidden_layers: s.layers,
    num_key_value_heads: kv,
    bos_token_id: ids.bos,
    eos_token_id: ids.eos,
    torch_dtype: torchDtype,
    transformers_version: '4.46.0',
    use_cache: true,
    vocab_size: configVocabSize(arch, ids.tokenizerSize),
  };
  switch (arch) {
    case 'llama':
      return {
        ...llamaFields,
        rope_scaling: null,
        rope_theta: 10000.0,
        tie_word_embeddings: false,
        ...common,
      };
    case 'llama3':
      return {
        ...llamaFields,
        // head_dim 16 with theta 5e5 puts frequencies in all three llama3 bands (kept, smoothed, divided).
        rope_scaling: {
          factor: 8.0,
          high_freq_factor: 4.0,
          low_freq_factor: 1.0,
          original_max_position_embeddings: 8192,
          rope_type: 'llama3',
        },
        rope_theta: 500000.0,
        tie_word_embeddings: false,
        ...common,
      };
    case 'qwen2':
      return {
        architectures: ['Qwen2ForCausalLM'],
        model_type: 'qwen2',
        attention_dropout: 0.0,
        max_window_layers: s.layers,
        rms_norm_eps: 1e-6,
        rope_scaling: null,
        rope_theta: 1000000.0,
        sliding_window: s.maxPositions,
        tie_word_embeddings: true,
        use_sliding_window: false,
        ...common,
      };
    case 'mistral':
      return {
        architectures: ['MistralForCausalLM'],
        model_type: 'mistral',
        attention_dropout: 0.0,
        rms_norm_eps: 1e-5,
        rope_theta: 10000.0,
        sliding_window: s.slidingWindow ?? 64,
        tie_word_embeddings: false,
        ...common,
      };
    case 'smollm':
      return {
        ...llamaFields,
        rope_scaling: null,
        rope_theta: 100000.0,
        tie_word_embeddings: true,
        ...common,
      };
  }
}
