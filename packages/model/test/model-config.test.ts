import { describe, expect, it } from 'vitest';
import {
  assertSequenceLength,
  expectedTensorShapes,
  parseModelConfig,
  validateWeights,
  type ModelConfig,
} from '../src/loading/model-config.ts';

// Field values as published in the Hugging Face config.json of each model.
const LLAMA_32_1B = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 128000,
  eos_token_id: 128001,
  head_dim: 64,
  hidden_act: 'silu',
  hidden_size: 2048,
  initializer_range: 0.02,
  intermediate_size: 8192,
  max_position_embeddings: 131072,
  mlp_bias: false,
  model_type: 'llama',
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  use_cache: true,
  vocab_size: 128256,
};

const QWEN25_05B = {
  architectures: ['Qwen2ForCausalLM'],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  hidden_act: 'silu',
  hidden_size: 896,
  initializer_range: 0.02,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  max_window_layers: 21,
  model_type: 'qwen2',
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

const MISTRAL_7B = {
  architectures: ['MistralForCausalLM'],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  hidden_size: 4096,
  initializer_range: 0.02,
  intermediate_size: 14336,
  max_position_embeddings: 32768,
  model_type: 'mistral',
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  sliding_window: 4096,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  vocab_size: 32000,
};

const SMOLLM2_135M = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  hidden_size: 576,
  initializer_range: 0.041666666666666664,
  intermediate_size: 1536,
  max_position_embeddings: 8192,
  model_type: 'llama',
  num_attention_heads: 9,
  num_hidden_layers: 30,
  num_key_value_heads: 3,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  rope_theta: 100000,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  vocab_size: 49152,
};

describe('parseModelConfig', () => {
  it('Llama 3.2 1B: GQA, explicit head_dim, llama3 rope scaling, tied', () => {
    const c = parseModelConfig(LLAMA_32_1B);
    expect(c).toMatchObject({
      architecture: 'LlamaForCausalLM',
      modelType: 'llama',
      hiddenSize: 2048,
      numLayers: 16,
      numHeads: 32,
      numKvHeads: 8,
      headDim: 64,
      intermediateSize: 8192,
      vocabSize: 128256,
      rmsNormEps: 1e-5,
      ropeTheta: 500000,
      ropeScaling: { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 },
      maxPositionEmbeddings: 131072,
      tieWordEmbeddings: true,
      attentionBias: false,
      attentionOutputBias: false,
      mlpBias: false,
      slidingWindow: null,
      bosTokenId: 128000,
      eosTokenIds: [128001],
      torchDtype: 'bfloat16',
    });
  });

  it('Qwen2.5 0.5B: q/k/v bias but no o_proj bias, tied, sliding window off', () => {
    const c = parseModelConfig(QWEN25_05B);
    expect(c).toMatchObject({
      architecture: 'Qwen2ForCausalLM',
      numHeads: 14,
      numKvHeads: 2,
      headDim: 64,
      ropeTheta: 1e6,
      ropeScaling: null,
      attentionBias: true,
      attentionOutputBias: false,
      tieWordEmbeddings: true,
      slidingWindow: null,
      partialSlidingWindow: null,
      eosTokenIds: [151645],
    });
    // use_sliding_window windows only some layers: not implemented, so longer sequences are refused
    const windowed = parseModelConfig({ ...QWEN25_05B, use_sliding_window: true, sliding_window: 4096 });
    expect(windowed).toMatchObject({ slidingWindow: null, partialSlidingWindow: 4096 });
    expect(() => assertSequenceLength(windowed, 4096)).not.toThrow();
    expect(() => assertSequenceLength(windowed, 4097)).toThrow(/4097 exceeds the model's sliding_window 4096; Qwen2's use_sliding_window .* is not implemented/);
  });

  it('Mistral 7B: sliding window recorded (masked in attention, so longer sequences run)', () => {
    const c = parseModelConfig(MISTRAL_7B);
    expect(c).toMatchObject({ architecture: 'MistralForCausalLM', slidingWindow: 4096, partialSlidingWindow: null, numKvHeads: 8, headDim: 128, attentionBias: false, tieWordEmbeddings: false });
    expect(() => assertSequenceLength(c, 8192)).not.toThrow();
    // Mistral v0.2+ disables the window with null; a missing key means the MistralConfig default 4096.
    expect(parseModelConfig({ ...MISTRAL_7B, sliding_window: null }).slidingWindow).toBeNull();
    const { sliding_window: _omit, ...noWindow } = MISTRAL_7B;
    expect(parseModelConfig(noWindow).slidingWindow).toBe(4096);
  });

  it('SmolLM2 135M is the Llama architecture with tied embeddings and 3 kv heads', () => {
    const c = parseModelConfig(SMOLLM2_135M);
    expect(c).toMatchObject({ architecture: 'LlamaForCausalLM', headDim: 64, numHeads: 9, numKvHeads: 3, tieWordEmbeddings: true, ropeTheta: 100000 });
  });

  it('applies transformers defaults for omitted fields', () => {
    const c = parseModelConfig({
      architectures: ['LlamaForCausalLM'],
      hidden_size: 64,
      num_hidden_layers: 1,
      num_attention_heads: 4,
      intermediate_size: 128,
      vocab_size: 100,
    });
    expect(c).toMatchObject({ numKvHeads: 4, headDim: 16, rmsNormEps: 1e-6, ropeTheta: 10000, maxPositionEmbeddings: 2048, tieWordEmbeddings: false, eosTokenIds: [] });
  });

  it('reads the transformers v5 rope_parameters layout', () => {
    const { rope_scaling: _r, rope_theta: _t, ...rest } = LLAMA_32_1B;
    const c = parseModelConfig({ ...rest, rope_parameters: { ...LLAMA_32_1B.rope_scaling, rope_theta: 500000 } });
    expect(c.ropeTheta).toBe(500000);
    expect(c.ropeScaling?.factor).toBe(32);
  });

  it('eos_token_id may be a list', () => {
    expect(parseModelConfig({ ...LLAMA_32_1B, eos_token_id: [128001, 128008, 128009] }).eosTokenIds).toEqual([128001, 128008, 128009]);
  });
});

describe('refusals list what is supported', () => {
  it('unsupported architecture', () => {
    expect(() => parseModelConfig({ architectures: ['GPT2LMHeadModel'], model_type: 'gpt2' }, 'gpt2/config.json')).toThrow(
      /gpt2\/config\.json: architecture \["GPT2LMHeadModel"\] \(model_type "gpt2"\) is not supported; supported: architectures LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM/,
    );
  });
  it('rope_scaling yarn', () => {
    expect(() => parseModelConfig({ ...QWEN25_05B, rope_scaling: { type: 'yarn', factor: 4, original_max_position_embeddings: 32768 } })).toThrow(
      /rope_scaling\.rope_type "yarn" is not supported; supported rope types: default, llama3/,
    );
  });
  it('hidden_act other than silu', () => {
    expect(() => parseModelConfig({ ...LLAMA_32_1B, hidden_act: 'gelu' })).toThrow(/hidden_act "gelu" is not supported; supported: .*hidden_act silu/);
  });
  it('quantized checkpoints', () => {
    expect(() => parseModelConfig({ ...QWEN25_05B, quantization_config: { quant_method: 'gptq', bits: 4 } })).toThrow(/quantized checkpoints/);
  });
  it('model_type that contradicts the architecture', () => {
    expect(() => parseModelConfig({ ...QWEN25_05B, model_type: 'llama' })).toThrow(/model_type "llama" does not match architecture Qwen2ForCausalLM/);
  });
  it('kv heads that do not divide the heads, and missing sizes', () => {
    expect(() => parseModelConfig({ ...MISTRAL_7B, num_key_value_heads: 5 })).toThrow(/num_attention_heads \(32\) must be a multiple of num_key_value_heads \(5\)/);
    const { hidden_size: _h, ...noHidden } = MISTRAL_7B;
    expect(() => parseModelConfig(noHidden, 'm/config.json')).toThrow(/m\/config\.json: missing "hidden_size"/);
  });
  it('incomplete llama3 rope scaling', () => {
    expect(() => parseModelConfig({ ...LLAMA_32_1B, rope_scaling: { rope_type: 'llama3', factor: 8 } })).toThrow(/rope_scaling: missing "low_freq_factor"/);
  });
});

function tiny(overrides: Record<string, unknown> = {}): ModelConfig {
  return parseModelConfig({ ...QWEN25_05B, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 12, vocab_size: 10, ...overrides });
}

function asTensors(shapes: Map<string, number[]>, dtype = 'F32'): Map<string, { dtype: string; shape: number[] }> {
  return new Map([...shapes].map(([k, s]) => [k, { dtype, shape: s }]));
}

describe('expectedTensorShapes', () => {
  it('Qwen2: q/k/v biases, GQA k/v rows, no lm_head when tied', () => {
    const s = expectedTensorShapes(tiny());
    expect(s.get('model.embed_tokens.weight')).toEqual([10, 8]);
    expect(s.get('model.layers.1.self_attn.q_proj.weight')).toEqual([8, 8]);
    expect(s.get('model.layers.1.self_attn.k_proj.weight')).toEqual([4, 8]); // 2 kv heads * head_dim 2
    expect(s.get('model.layers.1.self_attn.v_proj.bias')).toEqual([4]);
    expect(s.has('model.layers.0.self_attn.o_proj.bias')).toBe(false);
    expect(s.get('model.layers.0.mlp.down_proj.weight')).toEqual([8, 12]);
    expect(s.has('lm_head.weight')).toBe(false);
    // embed + norm + 2 layers * (2 norms + 4 attn weights + 3 biases + 3 mlp)
    expect(s.size).toBe(2 + 2 * 12);
  });
  it('Llama with attention_bias and mlp_bias, untied, explicit head_dim', () => {
    const c = parseModelConfig({ ...LLAMA_32_1B, hidden_size: 8, head_dim: 6, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 5, vocab_size: 7, attention_bias: true, mlp_bias: true, tie_word_embeddings: false });
    const s = expectedTensorShapes(c);
    expect(s.get('model.layers.0.self_attn.q_proj.weight')).toEqual([12, 8]);
    expect(s.get('model.layers.0.self_attn.o_proj.weight')).toEqual([8, 12]);
    expect(s.get('model.layers.0.self_attn.o_proj.bias')).toEqual([8]);
    expect(s.get('model.layers.0.mlp.down_proj.bias')).toEqual([8]);
    expect(s.get('lm_head.weight')).toEqual([7, 8]);
  });
});

describe('validateWeights', () => {
  const config = tiny();
  const good = asTensors(expectedTensorShapes(config));

  it('accepts a complete checkpoint and ignores rotary buffers and a duplicated tied head', () => {
    const t = new Map(good);
    t.set('model.layers.0.self_attn.rotary_emb.inv_freq', { dtype: 'F32', shape: [1] });
    t.set('lm_head.weight', { dtype: 'BF16', shape: [10, 8] });
    expect(validateWeights(config, t).ignored.sort()).toEqual(['lm_head.weight', 'model.layers.0.self_attn.rotary_emb.inv_freq']);
  });
  it('wrong shape names the tensor, expected and found shape', () => {
    const t = new Map(good);
    t.set('model.layers.1.self_attn.k_proj.weight', { dtype: 'F32', shape: [8, 8] });
    expect(() => validateWeights(config, t, 'm/model.safetensors')).toThrow(
      'm/model.safetensors: tensor "model.layers.1.self_attn.k_proj.weight": expected shape [4, 8], found [8, 8]',
    );
  });
  it('wrong dtype', () => {
    const t = new Map(good);
    t.set('model.norm.weight', { dtype: 'I64', shape: [8] });
    expect(() => validateWeights(config, t)).toThrow(/tensor "model\.norm\.weight": expected a floating dtype \(F32, F16, BF16, F64\), found I64/);
  });
  it('missing and unexpected tensors', () => {
    const t = new Map(good);
    t.delete('model.layers.0.self_attn.q_proj.bias');
    expect(() => validateWeights(config, t)).toThrow(/tensor "model\.layers\.0\.self_attn\.q_proj\.bias" is missing \(expected shape \[8\]\)/);
    const u = new Map(good);
    u.set('transformer.h.0.attn.c_attn.weight', { dtype: 'F32', shape: [8, 24] });
    expect(() => validateWeights(config, u)).toThrow(/1 unexpected tensor\(s\) for Qwen2ForCausalLM: "transformer\.h\.0\.attn\.c_attn\.weight"/);
  });
});
