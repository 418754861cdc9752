// The engine-api entry points for building graphs outside a Policy (benchmarks, tools): a forward graph
// returning logits or per-token log-probs, and a KV-cache decode step. Policy builds its sessions with these.
import { GraphBuilder, type OnnxModelBytes } from '@ragrpo/graph';
import { buildDecoderGraph, presentKeyName, presentValueName } from './llama-graph.ts';
import type { LoraAdapter } from '../lora/lora.ts';
import type { ModelWeights, TrainableMode } from '../policy/policy.ts';
import { tokenLogprobs } from './token-logprobs.ts';
import { ParamSource, type WeightTensor } from '../loading/weights.ts';

export interface GraphModelOptions {
  lora?: LoraAdapter | null;
  /** Which parameters are graph inputs rather than initializers. Default: 'lora' with an adapter, else 'none'. */
  trainable?: TrainableMode;
  /**
   * Frozen matrices (rank >= 2: embeddings, linear weights) as graph inputs fed from the one JS copy, instead of
   * initializers each ORT session copies (and, for a folded Transpose, copies again). Default false.
   */
  frozenAsInputs?: boolean;
}

export interface ForwardOptions extends GraphModelOptions {
  batch: number;
  seqLen: number;
  /**
   * Emit per-token log-probs of the completion instead of logits: the sequence is a left-padded prompt of
   * `promptLen` then the completion; adds the int64 input `targets` [batch, seqLen - promptLen], output `logprobs`.
   * `entropy: true` adds the output `entropy` [batch, seqLen - promptLen] of softmax(logits / temperature).
   */
  logprobs?: { promptLen: number; temperature?: number; entropy?: boolean };
  /** Emit logits only for positions [start, end) (output `logits` [batch, end - start, vocab]). */
  logitsRange?: [number, number];
  /** Also output `present_key_l` / `present_value_l` (the prompt's KV cache). */
  emitKeyValues?: boolean;
}

/**
 * ONNX bytes for a session. Initializers go out as in-memory external data: views of the weight arrays
 * themselves, so serialising never copies the weights into a protobuf buffer.
 */
export function modelBytes(g: GraphBuilder): OnnxModelBytes {
  return g.toOnnx({ externalData: 'always' });
}

/** Parameters of a model (plus adapter) as seen by a graph, and which of them are inputs. */
export function modelParams(g: GraphBuilder, model: ModelWeights, o: GraphModelOptions): ParamSource {
  const lora = o.lora ?? null;
  const mode = o.trainable ?? (lora ? 'lora' : 'none');
  if (mode === 'lora' && !lora) throw new Error("trainable 'lora' needs a LoRA adapter");
  const view = new Map<string, WeightTensor>(model.weights);
  if (lora) for (const [k, w] of lora.weights) view.set(k, w);
  const trainable = mode === 'lora' ? new Set(lora!.weights.keys()) : mode === 'full' ? new Set(model.weights.keys()) : new Set<string>();
  return new ParamSource(g, view, trainable, o.frozenAsInputs ?? false);
}

/** A forward graph. Inputs: input_ids, position_ids, attention_bias (+ trained tensors by name). */
export function buildForward(model: ModelWeights, o: ForwardOptions): GraphBuilder {
  const g = new GraphBuilder({ name: o.logprobs ? 'logprobs' : 'forward' });
  const params = modelParams(g, model, o);
  const lora = o.lora ? { config: o.lora.config, dropout: false } : null;
  if (o.logprobs) {
    const Tp = o.logprobs.promptLen;
    const dec = buildDecoderGraph(g, model.config, params, { batch: o.batch, seqLen: o.seqLen, lora, logitsRange: [Tp - 1, o.seqLen - 1] });
    const scored = tokenLogprobs(g, dec, { temperature: o.logprobs.temperature, entropy: o.logprobs.entropy });
    g.output('logprobs', scored.logprobs);
    if (scored.entropy) g.output('entropy', scored.entropy);
    return g;
  }
  const dec = buildDecoderGraph(g, model.config, params, {
    batch: o.batch,
    seqLen: o.seqLen,
    lora,
    logitsRange: o.logitsRange,
    emitKeyValues: o.emitKeyValues,
  });
  g.output('logits', dec.logits);
  if (o.emitKeyValues) {
    dec.keys.forEach((k, l) => g.output(presentKeyName(l), k));
    dec.values.forEach((v, l) => g.output(presentValueName(l), v));
  }
  return g;
}

/** Decode-step input: 1 / temperature, [1] float, scaling the logits behind the `probs` output. */
export const INV_TEMPERATURE = 'inv_temperature';

/**
 * One decode step against a KV cache of `capacity` slots. Inputs: input_ids/position_ids [batch, 1],
 * attention_bias [batch, 1, 1, capacity + 1], past_key_l/past_value_l [batch, kv, capacity, hd] and
 * inv_temperature [1]; outputs logits [batch, 1, vocab], probs = softmax(logits * inv_temperature) [batch, 1, vocab]
 * and the new token's present_key_l/present_value_l [batch, kv, 1, hd]. The softmax runs in ORT because
 * plain temperature sampling needs every probability, and V exps per row per step in JS cost as much as a
 * small model's whole decode step (callers fetch either logits or probs).
 */
export function buildDecodeStep(model: ModelWeights, o: GraphModelOptions & { batch: number; capacity: number }): GraphBuilder {
  const g = new GraphBuilder({ name: 'decode' });
  const params = modelParams(g, model, o);
  const lora = o.lora ? { config: o.lora.config, dropout: false } : null;
  const dec = buildDecoderGraph(g, model.config, params, { batch: o.batch, seqLen: 1, pastLen: o.capacity, lora, emitKeyValues: true });
  g.output('logits', dec.logits);
  g.output('probs', g.softmax(g.mul(dec.logits, g.input(INV_TEMPERATURE, [1], 'float32')), 2));
  dec.keys.forEach((k, l) => g.output(presentKeyName(l), k));
  dec.values.forEach((v, l) => g.output(presentValueName(l), v));
  return g;
}
