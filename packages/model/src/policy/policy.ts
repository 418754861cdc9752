// A model ready to run: base weights (frozen, baked into graphs as initializers), an optional LoRA adapter,
// the tensors being trained (fed as graph inputs so updates need no session rebuild), and the cached sessions
// for every graph kind and shape. Sampling, log-prob scoring and training all go through this object, so they
// run the same graph code on the same parameters.
import type { Feed, GraphBuilder } from '@ragrpo/graph';
import { bucketLength, packBatch, packedFeeds, type SequencePair } from '../graphs/batch-layout.ts';
import { assertSequenceLength, type ModelConfig } from '../loading/model-config.ts';
import { buildDecodeStep, buildForward, INV_TEMPERATURE, modelBytes, modelParams, type GraphModelOptions } from '../graphs/graphs.ts';
import { ATTENTION_BIAS, INPUT_IDS, POSITION_IDS, pastKeyName, pastValueName, presentKeyName, presentValueName, type LoraInGraph } from '../graphs/llama-graph.ts';
import type { LoraAdapter } from '../lora/lora.ts';
import { SessionPool, type SessionPoolOptions } from './session-pool.ts';
import type { ParamSource, WeightMap, WeightTensor } from '../loading/weights.ts';

/** The parts of a loaded model folder a policy needs. */
export interface ModelWeights {
  config: ModelConfig;
  weights: WeightMap;
}

export type TrainableMode = 'none' | 'lora' | 'full';

export interface PolicyOptions extends SessionPoolOptions {
  /** LoRA adapter applied on top of the base weights. */
  lora?: LoraAdapter | null;
  /** Which tensors are graph inputs (trained): the adapter's A/B, every base weight, or none. Default: 'lora' when an adapter is given, else 'none'. */
  trainable?: TrainableMode;
  /** Prompt/completion lengths are rounded up to multiples of this, so sessions are shared between batches. Default 16. */
  lengthBucket?: number;
  /**
   * Frozen base matrices as graph inputs shared by every session (one copy of the base in memory), or as
   * initializers each session copies (ORT pre-packs them: up to 30 % faster MatMuls, one copy per session).
   * Default 'inputs'.
   */
  frozenWeights?: 'inputs' | 'initializers';
}

export interface Logits {
  data: Float32Array;
  dims: number[];
}

export interface PrefillResult {
  /** Left-padded prompt length Tp (bucketed). */
  promptLen: number;
  /** [P, V] logits at the last prompt position */
  logits: Float32Array;
  /** per layer [P, KV, Tp, hd] post-RoPE keys, and values */
  keys: Float32Array[];
  values: Float32Array[];
}

export class Policy {
  readonly config: ModelConfig;
  readonly base: WeightMap;
  readonly lora: LoraAdapter | null;
  readonly trainable: TrainableMode;
  /** The live trained tensors (updated in place by the optimizer); empty when trainable = 'none'. */
  readonly params: Map<string, WeightTensor>;
  readonly pool: SessionPool;
  readonly lengthBucket: number;
  /** Session runs per graph kind (a group of G completions costs one 'prefill'). */
  readonly runs = { logits: 0, logprobs: 0, prefill: 0, decode: 0, train: 0 };
  /** Whether graphs take the frozen base matrices as inputs (PolicyOptions.frozenWeights). */
  readonly frozenAsInputs: boolean;
  private readonly frozen: Map<string, WeightTensor>;

  constructor(model: ModelWeights, opts: PolicyOptions = {}) {
    this.config = model.config;
    this.base = model.weights;
    this.lora = opts.lora ?? null;
    this.trainable = opts.trainable ?? (this.lora ? 'lora' : 'none');
    this.lengthBucket = opts.lengthBucket ?? 16;
    if (this.trainable === 'lora' && !this.lora) throw new Error("trainable 'lora' needs a LoRA adapter (pass opts.lora, e.g. createLora(config))");
    this.params = new Map();
    if (this.trainable === 'lora') for (const [k, w] of this.lora!.weights) this.params.set(k, w);
    if (this.trainable === 'full') {
      // Copies: the base map stays the frozen reference policy.
      for (const [k, w] of this.base) this.params.set(k, { shape: [...w.shape], data: new Float32Array(w.data) });
    }
    this.frozenAsInputs = (opts.frozenWeights ?? 'inputs') === 'inputs';
    // Whatever a graph takes frozen: the base, and the adapter when it is applied but not trained.
    this.frozen = new Map([...this.base, ...(this.lora?.weights ?? [])]);
    this.pool = new SessionPool({ ...opts, sharedFeeds: this.frozenAsInputs ? this.frozen : undefined });
  }

  /** Feeds for every trained tensor (wrapped, not copied). */
  paramFeeds(): Record<string, Feed> {
    const feeds: Record<string, Feed> = {};
    for (const [k, w] of this.params) feeds[k] = { data: w.data, dims: w.shape };
    return feeds;
  }

  /**
   * Feeds for the frozen matrices a graph of this policy takes as inputs (frozenWeights: 'inputs'; wrapped, not
   * copied). The policy's own sessions get them automatically; a session built by hand from paramSource() needs them.
   */
  frozenFeeds(): Record<string, Feed> {
    const feeds: Record<string, Feed> = {};
    if (this.frozenAsInputs) for (const [k, w] of this.frozen) if (w.shape.length >= 2) feeds[k] = { data: w.data, dims: w.shape };
    return feeds;
  }

  /** A ParamSource over this policy's parameters, or over the frozen base (reference) ones. */
  paramSource(g: GraphBuilder, reference = false): ParamSource {
    return modelParams(g, this.modelWeights(), this.graphOptions(reference));
  }

  modelWeights(): ModelWeights {
    return { config: this.config, weights: this.base };
  }

  /** Adapter and trainable mode for a graph: none of either for the frozen reference policy. */
  graphOptions(reference = false): GraphModelOptions {
    const frozenAsInputs = this.frozenAsInputs;
    return reference ? { lora: null, trainable: 'none', frozenAsInputs } : { lora: this.lora, trainable: this.trainable, frozenAsInputs };
  }

  loraInGraph(reference: boolean, dropout: boolean): LoraInGraph | null {
    if (reference || !this.lora) return null;
    return { config: this.lora.config, dropout };
  }

  bucket(n: number): number {
    return bucketLength(n, this.lengthBucket);
  }

  /** Full-sequence logits [B, T, V] for equal-length unpadded sequences (positions 0..T-1). */
  async forwardLogits(ids: readonly (readonly number[])[]): Promise<Logits> {
    const B = ids.length;
    const T = ids[0]?.length ?? 0;
    if (B === 0 || T === 0) throw new Error('forwardLogits needs at least one non-empty sequence');
    if (ids.some((r) => r.length !== T)) throw new Error('forwardLogits needs sequences of equal length (use logprobs for ragged batches)');
    assertSequenceLength(this.config, T);
    this.checkIds(ids.flat());
    const session = await this.pool.get(`logits|${B}|${T}`, () =>
      modelBytes(buildForward(this.modelWeights(), { ...this.graphOptions(), batch: B, seqLen: T })),
    );
    this.runs.logits++;
    const out = await session.run({ ...this.paramFeeds(), ...this.promptFeeds(ids, T) }, ['logits']);
    return { data: out.logits.data as Float32Array, dims: out.logits.dims };
  }

  /**
   * Per-token log-probabilities of each completion given its prompt (log_softmax(logits / temperature)).
   * `reference: true` scores with the frozen base weights and no adapter (the KL reference policy).
   */
  async logprobs(
    pairs: readonly SequencePair[],
    opts: { temperature?: number; reference?: boolean; batchSize?: number } = {},
  ): Promise<Float32Array[]> {
    return (await this.score(pairs, opts, false)).logprobs;
  }

  /**
   * logprobs() plus the entropy of softmax(logits / temperature) at every completion position (what GRPO's
   * top_entropy_quantile masks by). Scoring sessions with entropy are separate from the log-prob-only ones.
   */
  async tokenEntropies(
    pairs: readonly SequencePair[],
    opts: { temperature?: number; reference?: boolean; batchSize?: number } = {},
  ): Promise<{ logprobs: Float32Array[]; entropies: Float32Array[] }> {
    const { logprobs, entropies } = await this.score(pairs, opts, true);
    return { logprobs, entropies: entropies as Float32Array[] };
  }

  private async score(
    pairs: readonly SequencePair[],
    opts: { temperature?: number; reference?: boolean; batchSize?: number },
    entropy: boolean,
  ): Promise<{ logprobs: Float32Array[]; entropies: Float32Array[] | null }> {
    if (pairs.length === 0) return { logprobs: [], entropies: entropy ? [] : null };
    const temperature = opts.temperature ?? 1;
    const reference = opts.reference ?? false;
    const Tp = this.bucket(Math.max(...pairs.map((p) => p.promptIds.length)));
    const Tc = this.bucket(Math.max(1, ...pairs.map((p) => p.completionIds.length)));
    this.checkPairs(pairs);
    const mb = Math.min(opts.batchSize ?? pairs.length, pairs.length);
    const key = `logprobs|${mb}|${Tp}|${Tc}|${temperature}|${reference ? 'ref' : 'policy'}${entropy ? '|entropy' : ''}`;
    const session = await this.pool.get(key, () =>
      modelBytes(
        buildForward(this.modelWeights(), { ...this.graphOptions(reference), batch: mb, seqLen: Tp + Tc, logprobs: { promptLen: Tp, temperature, entropy } }),
      ),
    );
    const logprobs: Float32Array[] = [];
    const entropies: Float32Array[] = [];
    const fetch = entropy ? ['logprobs', 'entropy'] : ['logprobs'];
    for (let start = 0; start < pairs.length; start += mb) {
      const chunk = pairs.slice(start, start + mb);
      const packed = packBatch(chunk, { batch: mb, promptLen: Tp, completionLen: Tc, padId: this.padId(), slidingWindow: this.config.slidingWindow });
      this.runs.logprobs++;
      const out = await session.run({ ...(reference ? {} : this.paramFeeds()), ...packedFeeds(packed) }, fetch);
      const lp = out.logprobs.data as Float32Array;
      const h = out.entropy?.data as Float32Array | undefined;
      chunk.forEach((p, i) => {
        logprobs.push(lp.slice(i * Tc, i * Tc + p.completionIds.length));
        if (h) entropies.push(h.slice(i * Tc, i * Tc + p.completionIds.length));
      });
    }
    return { logprobs, entropies: entropy ? entropies : null };
  }

  /** Decoder feeds of prompts left-padded to `Tp`: ids, positions and the causal (windowed) attention bias. */
  private promptFeeds(prompts: readonly (readonly number[])[], Tp: number): Record<string, Feed> {
    const packed = packBatch(
      prompts.map((p) => ({ promptIds: p, completionIds: [] })),
      { batch: prompts.length, promptLen: Tp, completionLen: 0, padId: this.padId(), slidingWindow: this.config.slidingWindow },
    );
    const f = packedFeeds(packed);
    return { [INPUT_IDS]: f.input_ids, [POSITION_IDS]: f.position_ids, [ATTENTION_BIAS]: f.attention_bias };
  }

  /** Runs the prompts once (left-padded), returning last-position logits and the KV cache of every layer. */
  async prefill(prompts: readonly (readonly number[])[]): Promise<PrefillResult> {
    const P = prompts.length;
    const Tp = this.bucket(Math.max(...prompts.map((p) => p.length)));
    const L = this.config.numLayers;
    const session = await this.pool.get(`prefill|${P}|${Tp}`, () =>
      modelBytes(buildForward(this.modelWeights(), { ...this.graphOptions(), batch: P, seqLen: Tp, logitsRange: [Tp - 1, Tp], emitKeyValues: true })),
    );
    this.runs.prefill++;
    const out = await session.run({ ...this.paramFeeds(), ...this.promptFeeds(prompts, Tp) });
    return {
      promptLen: Tp,
      logits: out.logits.data as Float32Array,
      keys: Array.from({ length: L }, (_, l) => out[presentKeyName(l)].data as Float32Array),
      values: Array.from({ length: L }, (_, l) => out[presentValueName(l)].data as Float32Array),
    };
  }

  /**
   * One decode step for N rows against a KV cache of capacity S: returns logits [N, V] and the new token's
   * key/value per layer ([N, KV, 1, hd]) for the caller to write into its cache.
   */
  async decodeStep(step: {
    batch: number;
    capacity: number;
    inputIds: BigInt64Array;
    positionIds: BigInt64Array;
    /** [N, 1, 1, S + 1]: cache slots then the new token */
    attentionBias: Float32Array;
    pastKeys: Float32Array[];
    pastValues: Float32Array[];
    /**
     * Set: return `probs`, softmax(logits / temperature) [N, V] computed in the graph, instead of logits
     * (plain temperature sampling). Unset: return logits.
     */
    temperature?: number;
  }): Promise<{ logits?: Float32Array; probs?: Float32Array; keys: Float32Array[]; values: Float32Array[] }> {
    const { batch: N, capacity: S } = step;
    const L = this.config.numLayers;
    const session = await this.pool.get(`decode|${N}|${S}`, () =>
      modelBytes(buildDecodeStep(this.modelWeights(), { ...this.graphOptions(), batch: N, capacity: S })),
    );
    const kvDims = [N, this.config.numKvHeads, S, this.config.headDim];
    const feeds: Record<string, Feed> = {
      ...this.paramFeeds(),
      [INPUT_IDS]: { data: step.inputIds, dims: [N, 1] },
      [POSITION_IDS]: { data: step.positionIds, dims: [N, 1] },
      [ATTENTION_BIAS]: { data: step.attentionBias, dims: [N, 1, 1, S + 1] },
      [INV_TEMPERATURE]: { data: Float32Array.of(step.temperature ? 1 / step.temperature : 1), dims: [1] },
    };
    const fetch = [step.temperature ? 'probs' : 'logits'];
    for (let l = 0; l < L; l++) {
      feeds[pastKeyName(l)] = { data: step.pastKeys[l], dims: kvDims };
      feeds[pastValueName(l)] = { data: step.pastValues[l], dims: kvDims };
      fetch.push(presentKeyName(l), presentValueName(l));
    }
    this.runs.decode++;
    const out = await session.run(feeds, fetch);
    return {
      logits: out.logits?.data as Float32Array | undefined,
      probs: out.probs?.data as Float32Array | undefined,
      keys: Array.from({ length: L }, (_, l) => out[presentKeyName(l)].data as Float32Array),
      values: Array.from({ length: L }, (_, l) => out[presentValueName(l)].data as Float32Array),
    };
  }

  padId(): number {
    return this.config.padTokenId ?? this.config.eosTokenIds[0] ?? 0;
  }

  checkIds(ids: readonly number[]): void {
    const V = this.config.vocabSize;
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`token id ${id} is outside the vocabulary [0, ${V}) of this model`);
    }
  }

  checkPairs(pairs: readonly SequencePair[]): void {
    pairs.forEach((p, i) => {
      const n = p.promptIds.length + p.completionIds.length;
      try {
        assertSequenceLength(this.config, n);
      } catch (e) {
        throw new Error(`sequence ${i}: ${(e as Error).message}`);
      }
      this.checkIds(p.promptIds);
      this.checkIds(p.completionIds);
    });
  }

  async release(): Promise<void> {
    await this.pool.release();
  }
}
