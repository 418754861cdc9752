/**
 * config.json and generation_config.json of the imported model, from the GGUF's `<arch>.*` and
 * `tokenizer.ggml.*` metadata (the keys llama.cpp's convert_hf_to_gguf.py writes; the inverse of
 * transformers' integrations/ggml.py GGUF_CONFIG_MAPPING for llama and qwen2).
 */
import { GgufError } from './errors.ts';
import type { GgufTensor, Metadata } from './read-gguf.ts';

/** GGUF `general.architecture` values the engine runs, and the Hugging Face class each becomes. */
export const GGUF_ARCHITECTURES = {
  llama: { architecture: 'LlamaForCausalLM', modelType: 'llama' },
  qwen2: { architecture: 'Qwen2ForCausalLM', modelType: 'qwen2' },
} as const;
export type GgufArchitecture = keyof typeof GGUF_ARCHITECTURES;

export interface ImportedConfig {
  arch: GgufArchitecture;
  /** config.json */
  config: Record<string, unknown>;
  /** generation_config.json */
  generation: Record<string, unknown>;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  tied: boolean;
}

/** Llama 3.x rope scaling variants whose per-frequency factors llama.cpp stores as rope_freqs.weight. */
const LLAMA3_ROPE_CANDIDATES = [8, 32, 16, 4, 2].map((factor) => ({
  rope_type: 'llama3', factor, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192,
}));

/** The factors llama.cpp writes for a llama3 rope_scaling (convert_hf_to_gguf.py, LlamaModel.generate_extra_tensors). */
export function llama3RopeFactors(headDim: number, theta: number, s: (typeof LLAMA3_ROPE_CANDIDATES)[number]): number[] {
  const lowWavelen = s.original_max_position_embeddings / s.low_freq_factor;
  const highWavelen = s.original_max_position_embeddings / s.high_freq_factor;
  const out: number[] = [];
  for (let i = 0; i < headDim; i += 2) {
    const freq = 1 / theta ** (i / headDim);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) out.push(1);
    else if (wavelen > lowWavelen) out.push(s.factor);
    else {
      const smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
      out.push(1 / ((1 - smooth) / s.factor + smooth));
    }
  }
  return out;
}

/**
 * GGUF stores these as float32: 1e-5 comes back as 9.999999747378752e-6. The shortest decimal that
 * rounds to the same float32 is what the original config.json said.
 */
export function float32Decimal(x: number): number {
  const f = Math.fround(x);
  for (let p = 1; p <= 9; p++) {
    const d = Number(f.toPrecision(p));
    if (Math.fround(d) === f) return d;
  }
  return f;
}

export function buildConfig(
  md: Metadata,
  tensors: Map<string, GgufTensor>,
  readFloats: (t: GgufTensor) => Float32Array,
  sourceName: string,
): ImportedConfig {
  const file = md.file;
  const archName = md.str('general.architecture');
  if (!(archName in GGUF_ARCHITECTURES)) {
    throw new GgufError(`${file}: GGUF architecture '${archName}' is not supported; the engine runs Llama-family decoders: ${Object.keys(GGUF_ARCHITECTURES).join(', ')} (Llama 2/3, SmolLM, Mistral, TinyLlama, DeepSeek-R1-Distill-Llama are 'llama'; Qwen2/2.5 and DeepSeek-R1-Distill-Qwen are 'qwen2')`);
  }
  const arch = archName as GgufArchitecture;
  const k = (key: string) => `${arch}.${key}`;
  const embd = tensors.get('token_embd.weight');
  if (!embd) throw new GgufError(`${file}: no token_embd.weight tensor`);
  const hidden = md.num(k('embedding_length'));
  const numHeads = md.num(k('attention.head_count'));
  const numKvHeads = md.num(k('attention.head_count_kv'), numHeads);
  if (md.raw(k('attention.head_count')) instanceof Array || md.raw(k('attention.head_count_kv')) instanceof Array) {
    throw new GgufError(`${file}: per-layer head counts are not supported`);
  }
  const headDim = md.num(k('attention.key_length'), Math.floor(hidden / numHeads));
  const valueLength = md.num(k('attention.value_length'), headDim);
  if (valueLength !== headDim) throw new GgufError(`${file}: attention.value_length ${valueLength} differs from key_length ${headDim}; not supported`);
  const ropeDims = md.num(k('rope.dimension_count'), headDim);
  if (ropeDims !== headDim) {
    throw new GgufError(`${file}: partial rotary embeddings (rope.dimension_count ${ropeDims} of head size ${headDim}) are not supported`);
  }
  const ropeTheta = float32Decimal(md.num(k('rope.freq_base'), 10000));
  const vocabSize = embd.shape[0]!;
  const tied = !tensors.has('output.weight');
  const maxPos = md.num(k('context_length'));

  // Rope scaling: none, or llama3 (recognised from its rope_freqs factors); linear/yarn are refused as the engine does.
  const scalingType = md.str(k('rope.scaling.type'), null);
  if (scalingType !== null && scalingType !== 'none') {
    throw new GgufError(`${file}: rope scaling '${scalingType}' is not supported (the engine implements none and llama3)`);
  }
  let ropeScaling: Record<string, unknown> | null = null;
  const freqs = tensors.get('rope_freqs.weight');
  if (freqs) {
    const got = readFloats(freqs);
    const match = LLAMA3_ROPE_CANDIDATES.find((c) => {
      const want = llama3RopeFactors(headDim, ropeTheta, c);
      return want.length === got.length && want.every((w, i) => Math.abs(w - got[i]!) <= 1e-4 * Math.abs(w));
    });
    if (!match) {
      throw new GgufError(`${file}: rope_freqs.weight holds per-frequency rope factors that match no Llama 3 rope_scaling (factor 2-32, low 1, high 4, original context 8192); not supported`);
    }
    ropeScaling = { ...match };
  }

  const tok = (key: string) => md.num(`tokenizer.ggml.${key}`, null);
  const bos = tok('bos_token_id');
  const eos = tok('eos_token_id');
  const eot = tok('eot_token_id');
  const eom = tok('eom_token_id');
  const pad = tok('padding_token_id');
  const eosIds = [...new Set([eos, eot, eom].filter((x): x is number => x !== null))];

  const hasBias = (n: string) => tensors.has(`blk.0.${n}.bias`);
  const common = {
    vocab_size: vocabSize,
    hidden_size: hidden,
    intermediate_size: md.num(k('feed_forward_length')),
    num_hidden_layers: md.num(k('block_count')),
    num_attention_heads: numHeads,
    num_key_value_heads: numKvHeads,
    head_dim: headDim,
    hidden_act: 'silu',
    max_position_embeddings: maxPos,
    rms_norm_eps: float32Decimal(md.num(k('attention.layer_norm_rms_epsilon'), 1e-6)),
    rope_theta: ropeTheta,
    rope_scaling: ropeScaling,
    tie_word_embeddings: tied,
    bos_token_id: bos,
    eos_token_id: eosIds.length === 1 ? eosIds[0] : eosIds.length === 0 ? null : eosIds,
    pad_token_id: pad,
    torch_dtype: 'float32',
  };
  let config: Record<string, unknown>;
  if (arch === 'llama') {
    const qkv = hasBias('attn_q') || hasBias('attn_k') || hasBias('attn_v') || hasBias('attn_output');
    if (qkv && !(hasBias('attn_q') && hasBias('attn_k') && hasBias('attn_v') && hasBias('attn_output'))) {
      throw new GgufError(`${file}: a Llama GGUF with bias on some but not all of q/k/v/o projections; LlamaForCausalLM's attention_bias covers all four`);
    }
    config = {
      architectures: ['LlamaForCausalLM'], model_type: 'llama', ...common,
      attention_bias: qkv, mlp_bias: tensors.has('blk.0.ffn_up.bias'), pretraining_tp: 1,
    };
  } else {
    config = {
      architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', ...common,
      use_sliding_window: false, sliding_window: md.num(k('attention.sliding_window'), maxPos), max_window_layers: md.num(k('block_count')),
    };
  }
  config['ragrpo'] = {
    imported_from: sourceName,
    gguf_architecture: arch,
    gguf_name: md.str('general.name', null),
    tensor_types: tensorTypeCounts(tensors),
  };
  const generation: Record<string, unknown> = { bos_token_id: bos, eos_token_id: common.eos_token_id, pad_token_id: pad };
  return { arch, config, generation, numHeads, numKvHeads, headDim, tied };
}

function tensorTypeCounts(tensors: Map<string, GgufTensor>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tensors.values()) out[t.typeName] = (out[t.typeName] ?? 0) + 1;
  return out;
}
