/**
 * GGUF tensor names to Hugging Face names (llama.cpp's gguf-py/gguf/tensor_mapping.py, Llama and
 * Qwen2 layouts), and the inverse of the rotary row permutation llama.cpp's convert_hf_to_gguf.py
 * applies to Llama q/k projections.
 */
import { GgufError } from './errors.ts';

const GLOBAL: Record<string, string> = {
  'token_embd.weight': 'model.embed_tokens.weight',
  'output_norm.weight': 'model.norm.weight',
  'output.weight': 'lm_head.weight',
};

const BLOCK: Record<string, string> = {
  'attn_norm.weight': 'input_layernorm.weight',
  'ffn_norm.weight': 'post_attention_layernorm.weight',
  'attn_q.weight': 'self_attn.q_proj.weight',
  'attn_q.bias': 'self_attn.q_proj.bias',
  'attn_k.weight': 'self_attn.k_proj.weight',
  'attn_k.bias': 'self_attn.k_proj.bias',
  'attn_v.weight': 'self_attn.v_proj.weight',
  'attn_v.bias': 'self_attn.v_proj.bias',
  'attn_output.weight': 'self_attn.o_proj.weight',
  'attn_output.bias': 'self_attn.o_proj.bias',
  'ffn_gate.weight': 'mlp.gate_proj.weight',
  'ffn_up.weight': 'mlp.up_proj.weight',
  'ffn_down.weight': 'mlp.down_proj.weight',
};

/** GGUF tensors that carry no weight of the Hugging Face model (read by the config builder instead). */
export const NON_WEIGHT_TENSORS = new Set(['rope_freqs.weight']);

/** The Hugging Face name of a GGUF tensor; null for a tensor not part of a Llama/Qwen2 decoder. */
export function hfTensorName(name: string): string | null {
  if (GLOBAL[name]) return GLOBAL[name]!;
  const m = /^blk\.(\d+)\.(.+)$/.exec(name);
  if (!m) return null;
  const rest = BLOCK[m[2]!];
  return rest ? `model.layers.${m[1]}.${rest}` : null;
}

/**
 * Undoes llama.cpp's q/k permutation in place of a copy: llama.cpp stores, per head, the rows of
 * the two rotary halves interleaved (row 2i+s of a head holds Hugging Face row s*hd/2 + i). Works
 * on weights ([heads*hd, in], row-major) and biases ([heads*hd]).
 */
export function unpermuteRotary(data: Float32Array, rows: number, heads: number, label: string): Float32Array {
  if (rows % heads !== 0 || (rows / heads) % 2 !== 0) {
    throw new GgufError(`${label}: ${rows} rows do not split into ${heads} heads of an even head size`);
  }
  const cols = data.length / rows;
  const hd = rows / heads;
  const half = hd / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++) {
    for (let s = 0; s < 2; s++) {
      for (let i = 0; i < half; i++) {
        const src = (h * hd + 2 * i + s) * cols;
        const dst = (h * hd + s * half + i) * cols;
        out.set(data.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}
