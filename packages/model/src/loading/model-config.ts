/**
 * Hugging Face `config.json` -> normalised, typed config for the Llama-family decoders the engine
 * builds graphs for, plus the weight names/shapes such a checkpoint must hold.
 *
 * Defaults follow the transformers config classes (LlamaConfig, Qwen2Config, MistralConfig) so a
 * config.json that omits a field means the same thing here as in transformers.
 */
import * as fs from 'node:fs';

export const SUPPORTED_ARCHITECTURES = ['LlamaForCausalLM', 'Qwen2ForCausalLM', 'MistralForCausalLM'] as const;
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];
export type ModelType = 'llama' | 'qwen2' | 'mistral';
export const SUPPORTED_ROPE_TYPES = ['default', 'llama3'] as const;

const ARCH_MODEL_TYPE: Record<Architecture, ModelType> = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  MistralForCausalLM: 'mistral',
};

/** Llama 3.1 style frequency-dependent RoPE scaling (transformers `_compute_llama3_parameters`). */
export interface Llama3RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}
export type RopeScaling = Llama3RopeScaling;

export interface ModelConfig {
  architecture: Architecture;
  modelType: ModelType;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** Bias on q_proj, k_proj, v_proj (Qwen2 always; Llama when attention_bias). */
  attentionBias: boolean;
  /** Bias on o_proj (Llama attention_bias only; Qwen2 has none). */
  attentionOutputBias: boolean;
  /** Bias on gate/up/down projections (Llama mlp_bias). */
  mlpBias: boolean;
  /**
   * Mistral's sliding-window attention on every layer: a query sees the last `slidingWindow` positions (itself
   * included). Implemented by the attention masks (attention-window.ts). null: full causal attention.
   */
  slidingWindow: number | null;
  /**
   * Qwen2's use_sliding_window, which windows only the layers from max_window_layers on: not implemented, so
   * sequences longer than this are refused (within it every layer attends fully, which is exact). null: none.
   */
  partialSlidingWindow: number | null;
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
  /** Stored weight dtype as declared ("float32", "bfloat16", ...), or null. */
  torchDtype: string | null;
}

export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
}

type Json = Record<string, unknown>;

const SUPPORTED_LINE =
  `supported: architectures ${SUPPORTED_ARCHITECTURES.join(', ')} (SmolLM is LlamaForCausalLM), ` +
  `hidden_act silu, rope_scaling null or rope_type ${SUPPORTED_ROPE_TYPES.join('/')}, unquantized weights`;

function posInt(cfg: Json, key: string, file: string, fallback?: number): number {
  const v = cfg[key] ?? fallback;
  if (v === undefined) throw new ModelConfigError(`${file}: missing "${key}" (a positive integer)`);
  if (!Number.isSafeInteger(v) || (v as number) <= 0) {
    throw new ModelConfigError(`${file}: "${key}" must be a positive integer, found ${JSON.stringify(v)}`);
  }
  return v as number;
}

function posNum(cfg: Json, key: string, file: string, fallback?: number): number {
  const v = cfg[key] ?? fallback;
  if (v === undefined) throw new ModelConfigError(`${file}: missing "${key}" (a positive number)`);
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new ModelConfigError(`${file}: "${key}" must be a positive number, found ${JSON.stringify(v)}`);
  }
  return v;
}

function bool(cfg: Json, key: string, file: string, fallback: boolean): boolean {
  const v = cfg[key] ?? fallback;
  if (typeof v !== 'boolean') throw new ModelConfigError(`${file}: "${key}" must be true or false, found ${JSON.stringify(v)}`);
  return v;
}

function tokenIds(v: unknown, key: string, file: string): number[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  for (const id of list) {
    if (!Number.isSafeInteger(id) || id < 0) throw new ModelConfigError(`${file}: "${key}" must be a token id or a list of ids, found ${JSON.stringify(v)}`);
  }
  return list as number[];
}

function parseRopeScaling(raw: unknown, file: string, key: string): RopeScaling | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ModelConfigError(`${file}: "${key}" must be an object or null, found ${JSON.stringify(raw)}`);
  }
  const r = raw as Json;
  const type = (r['rope_type'] ?? r['type'] ?? 'default') as unknown;
  if (type === 'default') return null;
  if (type !== 'llama3') {
    throw new ModelConfigError(
      `${file}: ${key}.rope_type ${JSON.stringify(type)} is not supported; supported rope types: ${SUPPORTED_ROPE_TYPES.join(', ')} (and null)`,
    );
  }
  const where = `${file}: ${key}`;
  const s: Llama3RopeScaling = {
    type: 'llama3',
    factor: posNum(r, 'factor', where),
    lowFreqFactor: posNum(r, 'low_freq_factor', where),
    highFreqFactor: posNum(r, 'high_freq_factor', where),
    originalMaxPositionEmbeddings: posInt(r, 'original_max_position_embeddings', where),
  };
  if (!(s.highFreqFactor > s.lowFreqFactor)) {
    throw new ModelConfigError(`${where}: high_freq_factor (${s.highFreqFactor}) must be greater than low_freq_factor (${s.lowFreqFactor})`);
  }
  return s;
}

/**
 * Parses a config.json object. `file` names the source in error messages.
 * Throws ModelConfigError listing what is supported for anything the engine cannot run exactly.
 */
export function parseModelConfig(raw: unknown, file = 'config.json'): ModelConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ModelConfigError(`${file}: expected a JSON object`);
  }
  const cfg = raw as Json;
  const archs = cfg['architectures'];
  const declared = Array.isArray(archs) ? (archs as unknown[]) : [];
  const architecture = declared.find((a): a is Architecture => (SUPPORTED_ARCHITECTURES as readonly unknown[]).includes(a));
  if (!architecture) {
    throw new ModelConfigError(
      `${file}: architecture ${JSON.stringify(archs ?? null)} (model_type ${JSON.stringify(cfg['model_type'] ?? null)}) is not supported; ${SUPPORTED_LINE}`,
    );
  }
  const modelType = ARCH_MODEL_TYPE[architecture];
  if (cfg['model_type'] !== undefined && cfg['model_type'] !== modelType) {
    throw new ModelConfigError(
      `${file}: model_type ${JSON.stringify(cfg['model_type'])} does not match architecture ${architecture} (expected "${modelType}"); ${SUPPORTED_LINE}`,
    );
  }
  if (cfg['quantization_config'] !== undefined && cfg['quantization_config'] !== null) {
    throw new ModelConfigError(`${file}: quantized checkpoints (quantization_config) are not supported; ${SUPPORTED_LINE}`);
  }
  const act = cfg['hidden_act'] ?? cfg['hidden_activation'] ?? 'silu';
  if (act !== 'silu') {
    throw new ModelConfigError(`${file}: hidden_act ${JSON.stringify(act)} is not supported; ${SUPPORTED_LINE}`);
  }

  const hiddenSize = posInt(cfg, 'hidden_size', file);
  const numLayers = posInt(cfg, 'num_hidden_layers', file);
  const numHeads = posInt(cfg, 'num_attention_heads', file);
  const numKvHeads = posInt(cfg, 'num_key_value_heads', file, numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new ModelConfigError(`${file}: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  }
  if (cfg['head_dim'] === undefined || cfg['head_dim'] === null) {
    if (hiddenSize % numHeads !== 0) {
      throw new ModelConfigError(`${file}: hidden_size (${hiddenSize}) must be divisible by num_attention_heads (${numHeads}) when head_dim is absent`);
    }
  }
  const headDim = cfg['head_dim'] == null ? hiddenSize / numHeads : posInt(cfg, 'head_dim', file);
  if (headDim % 2 !== 0) throw new ModelConfigError(`${file}: head_dim (${headDim}) must be even for rotary embeddings`);

  const defaults = {
    llama: { eps: 1e-6, maxPos: 2048, tie: false },
    qwen2: { eps: 1e-6, maxPos: 32768, tie: false },
    mistral: { eps: 1e-6, maxPos: 4096 * 32, tie: false },
  }[modelType];

  // transformers v5 moves rope_theta/rope_scaling into rope_parameters; accept both layouts.
  const ropeParams = cfg['rope_parameters'] as Json | undefined | null;
  let ropeTheta: number;
  let ropeScaling: RopeScaling | null;
  if (ropeParams && typeof ropeParams === 'object') {
    ropeTheta = posNum(ropeParams, 'rope_theta', `${file}: rope_parameters`, posNum(cfg, 'rope_theta', file, 10000));
    ropeScaling = parseRopeScaling(ropeParams, file, 'rope_parameters');
  } else {
    ropeTheta = posNum(cfg, 'rope_theta', file, 10000);
    ropeScaling = parseRopeScaling(cfg['rope_scaling'], file, 'rope_scaling');
  }
  if (cfg['partial_rotary_factor'] !== undefined && cfg['partial_rotary_factor'] !== 1) {
    throw new ModelConfigError(`${file}: partial_rotary_factor ${JSON.stringify(cfg['partial_rotary_factor'])} is not supported (only 1); ${SUPPORTED_LINE}`);
  }

  let slidingWindow: number | null = null;
  let partialSlidingWindow: number | null = null;
  let attentionBias: boolean;
  let attentionOutputBias: boolean;
  let mlpBias = false;
  if (modelType === 'llama') {
    attentionBias = bool(cfg, 'attention_bias', file, false);
    attentionOutputBias = attentionBias;
    mlpBias = bool(cfg, 'mlp_bias', file, false);
  } else if (modelType === 'qwen2') {
    attentionBias = true; // Qwen2Attention: q/k/v always have bias, o_proj never
    attentionOutputBias = false;
    if (bool(cfg, 'use_sliding_window', file, false)) partialSlidingWindow = posInt(cfg, 'sliding_window', file, 4096);
  } else {
    attentionBias = false;
    attentionOutputBias = false;
    const sw = cfg['sliding_window'] === undefined ? 4096 : cfg['sliding_window'];
    slidingWindow = sw === null ? null : posInt({ sliding_window: sw }, 'sliding_window', file);
  }

  const eos = tokenIds(cfg['eos_token_id'], 'eos_token_id', file);
  const bos = tokenIds(cfg['bos_token_id'], 'bos_token_id', file);
  const pad = tokenIds(cfg['pad_token_id'], 'pad_token_id', file);
  const dtype = cfg['torch_dtype'] ?? cfg['dtype'] ?? null;

  return {
    architecture,
    modelType,
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: posInt(cfg, 'intermediate_size', file),
    vocabSize: posInt(cfg, 'vocab_size', file),
    rmsNormEps: posNum(cfg, 'rms_norm_eps', file, defaults.eps),
    ropeTheta,
    ropeScaling,
    maxPositionEmbeddings: posInt(cfg, 'max_position_embeddings', file, defaults.maxPos),
    tieWordEmbeddings: bool(cfg, 'tie_word_embeddings', file, defaults.tie),
    attentionBias,
    attentionOutputBias,
    mlpBias,
    slidingWindow,
    partialSlidingWindow,
    bosTokenId: bos[0] ?? null,
    eosTokenIds: eos,
    padTokenId: pad[0] ?? null,
    torchDtype: typeof dtype === 'string' ? dtype : null,
  };
}

/** Reads and parses `config.json` (or any path). */
export function readModelConfig(file: string): ModelConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelConfigError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelConfigError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseModelConfig(json, file);
}

/**
 * Throws when a sequence of `seqLen` positions cannot be run exactly: longer than max_position_embeddings, or
 * than a Qwen2 use_sliding_window window (per-layer windows are not implemented).
 */
export function assertSequenceLength(config: ModelConfig, seqLen: number): void {
  if (config.partialSlidingWindow !== null && seqLen > config.partialSlidingWindow) {
    throw new ModelConfigError(
      `sequence length ${seqLen} exceeds the model's sliding_window ${config.partialSlidingWindow}; Qwen2's use_sliding_window (windowed layers from max_window_layers on) is not implemented, so keep prompt + completion <= ${config.partialSlidingWindow} tokens or set use_sliding_window false`,
    );
  }
  if (seqLen > config.maxPositionEmbeddings) {
    throw new ModelConfigError(
      `sequence length ${seqLen} exceeds max_position_embeddings ${config.maxPositionEmbeddings}`,
    );
  }
}

/** Every weight a checkpoint of this config must hold, in Hugging Face naming, with its shape. */
export function expectedTensorShapes(config: ModelConfig): Map<string, number[]> {
  const { hiddenSize: h, numHeads, numKvHeads, headDim, intermediateSize: inter, vocabSize: v } = config;
  const q = numHeads * headDim;
  const kv = numKvHeads * headDim;
  const m = new Map<string, number[]>();
  m.set('model.embed_tokens.weight', [v, h]);
  for (let i = 0; i < config.numLayers; i++) {
    const p = `model.layers.${i}`;
    m.set(`${p}.input_layernorm.weight`, [h]);
    m.set(`${p}.self_attn.q_proj.weight`, [q, h]);
    m.set(`${p}.self_attn.k_proj.weight`, [kv, h]);
    m.set(`${p}.self_attn.v_proj.weight`, [kv, h]);
    if (config.attentionBias) {
      m.set(`${p}.self_attn.q_proj.bias`, [q]);
      m.set(`${p}.self_attn.k_proj.bias`, [kv]);
      m.set(`${p}.self_attn.v_proj.bias`, [kv]);
    }
    m.set(`${p}.self_attn.o_proj.weight`, [h, q]);
    if (config.attentionOutputBias) m.set(`${p}.self_attn.o_proj.bias`, [h]);
    m.set(`${p}.post_attention_layernorm.weight`, [h]);
    m.set(`${p}.mlp.gate_proj.weight`, [inter, h]);
    m.set(`${p}.mlp.up_proj.weight`, [inter, h]);
    m.set(`${p}.mlp.down_proj.weight`, [h, inter]);
    if (config.mlpBias) {
      m.set(`${p}.mlp.gate_proj.bias`, [inter]);
      m.set(`${p}.mlp.up_proj.bias`, [inter]);
      m.set(`${p}.mlp.down_proj.bias`, [h]);
    }
  }
  m.set('model.norm.weight', [h]);
  if (!config.tieWordEmbeddings) m.set('lm_head.weight', [v, h]);
  return m;
}

/** Floating dtypes a weight may be stored in (all are read as float arrays). */
export const WEIGHT_DTYPES = ['F32', 'F16', 'BF16', 'F64'] as const;

export interface WeightReport {
  /** Tensors present but not used by the forward pass (rotary inv_freq buffers, a duplicated tied lm_head). */
  ignored: string[];
}

/**
 * Checks a checkpoint against the config: every expected tensor present with the expected shape
 * and a floating dtype; unexpected tensors are an error except known harmless buffers.
 * `source` names the file/folder in errors.
 */
export function validateWeights(
  config: ModelConfig,
  tensors: Map<string, { dtype: string; shape: readonly number[] }>,
  source = 'weights',
): WeightReport {
  const expected = expectedTensorShapes(config);
  const problems: string[] = [];
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) {
      problems.push(`tensor "${name}" is missing (expected shape [${shape.join(', ')}])`);
      continue;
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      problems.push(`tensor "${name}": expected shape [${shape.join(', ')}], found [${t.shape.join(', ')}]`);
    }
    if (!(WEIGHT_DTYPES as readonly string[]).includes(t.dtype)) {
      problems.push(`tensor "${name}": expected a floating dtype (${WEIGHT_DTYPES.join(', ')}), found ${t.dtype}`);
    }
  }
  const ignored: string[] = [];
  const unexpected: string[] = [];
  for (const [name, t] of tensors) {
    if (expected.has(name)) continue;
    if (/^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/.test(name)) {
      ignored.push(name);
    } else if (name === 'lm_head.weight' && config.tieWordEmbeddings) {
      const want = [config.vocabSize, config.hiddenSize];
      if (t.shape.length !== 2 || t.shape[0] !== want[0] || t.shape[1] !== want[1]) {
        problems.push(`tensor "lm_head.weight": expected shape [${want.join(', ')}], found [${t.shape.join(', ')}]`);
      }
      ignored.push(name);
    } else {
      unexpected.push(name);
    }
  }
  if (unexpected.length > 0) {
    const shown = unexpected.slice(0, 5).map((n) => `"${n}"`).join(', ');
    problems.push(
      `${unexpected.length} unexpected tensor(s) for ${config.architecture}: ${shown}${unexpected.length > 5 ? ', ...' : ''}`,
    );
  }
  if (problems.length > 0) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem(s): ${problems.slice(1, 4).join('; ')}${problems.length > 4 ? '; ...' : ''})` : '';
    throw new ModelConfigError(`${source}: ${problems[0]}${more}`);
  }
  return { ignored };
}
