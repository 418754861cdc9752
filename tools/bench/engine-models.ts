// Benchmark models built in memory (no files): a Llama config of given dims with seeded random weights (the
// tiny-llm builder's initialiser), and the training step the benchmark times: @ragrpo/model's decoder on every
// position, log-softmax at target ids, a per-token weighted loss, and gradients for every trained tensor.
import { GraphBuilder, type Feed } from '@ragrpo/graph';
import {
  buildDecoderGraph,
  createLora,
  expectedTensorShapes,
  MASKED,
  parseModelConfig,
  Policy,
  sftLossGraph,
  tokenLogprobs,
  type ModelConfig,
  type ModelWeights,
} from '@ragrpo/model';
import { tinyConfigJson } from '../tiny-llm/arch-presets.ts';
import { mulberry32 } from '@ragrpo/config';

export interface ModelDims {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  vocab: number;
  /** LM head shares the embedding matrix (tie_word_embeddings). */
  tied?: boolean;
}

export const REFERENCE_DIMS: ModelDims = { layers: 1, hidden: 256, heads: 4, intermediate: 768, vocab: 2048 };
// Tied embeddings: 137.8M parameters, the "134M" class of the design study (untied would be 162M).
export const LARGE_DIMS: ModelDims = { layers: 12, hidden: 768, heads: 12, intermediate: 3072, vocab: 32000, tied: true };
export const DECODE_DIMS: ModelDims = { layers: 4, hidden: 256, heads: 4, intermediate: 768, vocab: 2048 };

/** A plain Llama (multi-head attention, untied head) config with these dims. */
export function benchConfig(dims: ModelDims, maxPositions = 1024): ModelConfig {
  const raw = tinyConfigJson(
    'llama',
    { layers: dims.layers, hidden: dims.hidden, heads: dims.heads, intermediate: dims.intermediate, maxPositions },
    { bos: 0, eos: 1, pad: 0, tokenizerSize: dims.vocab },
    'float32',
  );
  raw.tie_word_embeddings = dims.tied ?? false;
  return parseModelConfig(raw, `bench model ${JSON.stringify(dims)}`);
}

/**
 * Seeded random weights with the tiny-llm builder's scales (linear/embedding std 0.02, norms 1 + noise). Uniform
 * rather than Box-Muller normals: the values only need the right scale, and 138M normals take ~10 s in JS.
 */
export function benchModel(dims: ModelDims, seed = 0): ModelWeights {
  const config = benchConfig(dims);
  const rng = mulberry32(seed);
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  const a = 0.02 * Math.sqrt(3); // U(-a, a) has std 0.02
  for (const [name, shape] of expectedTensorShapes(config)) {
    const data = new Float32Array(shape.reduce((x, y) => x * y, 1));
    const isNorm = name.endsWith('norm.weight');
    for (let i = 0; i < data.length; i++) data[i] = isNorm ? 1 + 0.1 * (rng() - 0.5) : a * (2 * rng() - 1);
    weights.set(name, { shape, data });
  }
  return { config, weights };
}

export function parameterCount(model: ModelWeights): number {
  let n = 0;
  for (const w of model.weights.values()) n += w.data.length;
  return n;
}

export type TrainMode = 'full' | 'lora';
export const LORA_RANK = 16;
export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as const;

export function benchPolicy(model: ModelWeights, mode: TrainMode): Policy {
  if (mode === 'full') return new Policy(model, { trainable: 'full' });
  const lora = createLora(model.config, { r: LORA_RANK, alpha: 2 * LORA_RANK, targetModules: [...LORA_TARGETS] }, 1);
  // PEFT initialises B = 0; a non-zero B makes the adapter's forward contribution real (same FLOPs either way).
  const rng = mulberry32(2);
  for (const [name, w] of lora.weights) if (name.includes('lora_B')) for (let i = 0; i < w.data.length; i++) w.data[i] = (rng() - 0.5) * 0.02;
  return new Policy(model, { lora, trainable: 'lora' });
}

export const GRAD_PREFIX = 'grad/';

export interface StepGraphOptions {
  /** Frozen initializers as in-memory external data: they reach ORT without a copy inside the protobuf bytes. */
  externalData?: boolean;
  /** Rematerialise norm/softmax/activation results in the backward instead of keeping them (GradOptions.recompute). */
  recompute?: boolean;
}

/** Forward over all B*T positions, loss = -sum(w * log p(target)), gradients for every trained tensor. */
export function trainStepGraph(policy: Policy, batch: number, seqLen: number, o: StepGraphOptions = {}): Uint8Array {
  const g = new GraphBuilder({ name: 'bench_train_step' });
  const params = policy.paramSource(g);
  const dec = buildDecoderGraph(g, policy.config, params, { batch, seqLen, lora: policy.loraInGraph(false, false) });
  const { logprobs } = tokenLogprobs(g, dec);
  const { loss } = sftLossGraph(g, logprobs);
  const names = [...policy.params.keys()];
  const grads = g.grad(
    loss,
    names.map((n) => params.tensor(n)),
    { recompute: o.recompute ?? false },
  );
  g.output('loss', loss);
  names.forEach((n, i) => g.output(GRAD_PREFIX + n, grads[i]));
  return g.toOnnx(o.externalData ? { externalData: 'always' } : {});
}

/** Seeded token ids, causal mask, targets (next tokens) and per-token weights (1 / tokens). */
export function trainStepFeeds(policy: Policy, batch: number, seqLen: number, seed = 3): Record<string, Feed> {
  const rng = mulberry32(seed);
  const V = policy.config.vocabSize;
  const n = batch * seqLen;
  const ids = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(rng() * V)));
  const targets = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(rng() * V)));
  const positions = BigInt64Array.from({ length: n }, (_, i) => BigInt(i % seqLen));
  const bias = new Float32Array(batch * seqLen * seqLen).fill(MASKED);
  for (let b = 0; b < batch; b++) for (let t = 0; t < seqLen; t++) for (let s = 0; s <= t; s++) bias[(b * seqLen + t) * seqLen + s] = 0;
  return {
    ...policy.paramFeeds(),
    input_ids: { data: ids, dims: [batch, seqLen] },
    position_ids: { data: positions, dims: [batch, seqLen] },
    attention_bias: { data: bias, dims: [batch, 1, seqLen, seqLen] },
    targets: { data: targets, dims: [batch, seqLen] },
    loss_weights: { data: new Float32Array(n).fill(1 / n), dims: [batch, seqLen] },
  };
}
