// The Llama-family decoder (Llama 2/3, SmolLM, Mistral, Qwen2) recorded on the graph builder as plain ONNX
// ops, so the same code gives the training graph (with gradients), the forward-only log-prob graph and the
// KV-cache decode graph: the policy that is trained is exactly the policy that is sampled.
import type { GraphBuilder, Tensor } from '@ragrpo/graph';
import type { ModelConfig } from '../loading/model-config.ts';
import { ropeTables } from './rope.ts';
import { ParamSource } from '../loading/weights.ts';
import type { LoraConfig } from '../lora/lora-config.ts';
import { loraScale, loraParamName, layerModulePrefix, type LinearModule } from '../lora/lora-config.ts';

/** Additive mask value for disallowed attention: large enough to vanish after exp, finite so fully masked rows stay NaN-free. */
export const MASKED = -1e9;

export interface LoraInGraph {
  config: LoraConfig;
  /** Feed a per-module bool keep-mask as graph input `<module>.lora_dropout_mask` [B, T, in]. */
  dropout: boolean;
}

export interface DecoderGraphOptions {
  batch: number;
  /** New tokens processed by this graph. */
  seqLen: number;
  /** Cached keys/values already in the KV cache (decode step); 0 for a plain forward pass. */
  pastLen?: number;
  lora?: LoraInGraph | null;
  /** Emit logits only for positions [start, end) of the sequence (saves the LM head on prompt positions). */
  logitsRange?: [number, number];
  /** Output the post-RoPE keys and the values of the new tokens for every layer (KV cache fill). */
  emitKeyValues?: boolean;
}

export interface DecoderGraph {
  inputIds: Tensor;
  positionIds: Tensor;
  attentionBias: Tensor;
  /** [batch, end-start, vocab]; the LM head MatMul is emitted on first access (log-prob graphs never read it) */
  readonly logits: Tensor;
  /** The final-norm hidden states the LM head reads: [batch, end-start, hidden] */
  hidden: Tensor;
  /** The LM head as [hidden, vocab] (tied: the transposed embedding) */
  head: Tensor;
  /** per layer [batch, kvHeads, seqLen, headDim] when emitKeyValues */
  keys: Tensor[];
  values: Tensor[];
  pastKeys: Tensor[];
  pastValues: Tensor[];
}

/** Graph input names (the feeds the callers build). */
export const INPUT_IDS = 'input_ids';
export const POSITION_IDS = 'position_ids';
export const ATTENTION_BIAS = 'attention_bias';
export const pastKeyName = (l: number) => `past_key_${l}`;
export const pastValueName = (l: number) => `past_value_${l}`;
export const presentKeyName = (l: number) => `present_key_${l}`;
export const presentValueName = (l: number) => `present_value_${l}`;
export const dropoutMaskName = (modulePrefix: string) => `${modulePrefix}.lora_dropout_mask`;

/**
 * Records the decoder on `g`. Inputs: `input_ids` int64 [B,T], `position_ids` int64 [B,T],
 * `attention_bias` float [B,1,T,past+T] (0 where attention is allowed, MASKED elsewhere; built by batch-layout.ts and sampling/decode-bias.ts),
 * and `past_key_l`/`past_value_l` [B,kv,past,hd] when pastLen > 0.
 */
export function buildDecoderGraph(
  g: GraphBuilder,
  cfg: ModelConfig,
  params: ParamSource,
  opts: DecoderGraphOptions,
): DecoderGraph {
  const B = opts.batch;
  const T = opts.seqLen;
  const P = opts.pastLen ?? 0;
  const H = cfg.numHeads;
  const KV = cfg.numKvHeads;
  const hd = cfg.headDim;
  const rep = H / KV;
  const half = hd / 2;
  if (!Number.isInteger(rep)) throw new Error(`num_attention_heads ${H} is not a multiple of num_key_value_heads ${KV}`);

  const inputIds = g.input(INPUT_IDS, [B, T], 'int64');
  const positionIds = g.input(POSITION_IDS, [B, T], 'int64');
  const attentionBias = g.input(ATTENTION_BIAS, [B, 1, T, P + T], 'float32');
  const pastKeys: Tensor[] = [];
  const pastValues: Tensor[] = [];

  const c = (v: number) => g.constant(v);
  // x * rsqrt(mean(x²) + eps) * weight, with the builder's fused RMSNorm gradient.
  const rmsNorm = (x: Tensor, weightName: string): Tensor => g.rmsNorm(x, params.tensor(weightName), cfg.rmsNormEps);

  const loraScaleT = opts.lora ? c(loraScale(opts.lora.config)) : null;
  const linear = (x: Tensor, prefix: string, module: LinearModule, bias: boolean): Tensor => {
    let y = g.matmul(x, params.transposed(`${prefix}.weight`));
    if (bias) y = g.add(y, params.tensor(`${prefix}.bias`));
    const lora = opts.lora;
    if (lora && lora.config.targetModules.includes(module)) {
      let xa = x;
      if (lora.dropout && lora.config.dropout > 0) {
        // keep-mask fed as bool (a quarter of the bytes of float), scaled here by 1/(1-p) (inverted dropout)
        const keep = g.cast(g.input(dropoutMaskName(prefix), [...x.shape], 'bool'), 'float32');
        xa = g.mul(x, g.mul(keep, c(1 / (1 - lora.config.dropout))));
      }
      const a = params.tensor(loraParamName(prefix, 'A')); // [r, in]
      const b = params.tensor(loraParamName(prefix, 'B')); // [out, r]
      const low = g.matmul(g.matmul(xa, g.transpose(a, [1, 0])), g.transpose(b, [1, 0]));
      y = g.add(y, g.mul(low, loraScaleT!));
    }
    return y;
  };

  // RoPE: x * cos + rotate_half(x) * sin with transformers' rotate_half(x) = [-x2, x1] (the two halves of the head
  // dim form the rotated pairs). The sign is folded into the sin table (sinSigned = [-sin, sin]), so the rotation
  // is a swap of the halves: view [.., hd] as [.., 2, half] and reverse the size-2 axis (one strided Slice whose
  // gradient is the same reversal). A rotate_half MatMul with a signed permutation matrix would cost a GEMM each way.
  // cos/sin rows are gathered by position id: [B,T,hd] -> [B,1,T,hd] to broadcast over heads. Position ids
  // count real tokens, so they stay below past + new length: the tables are sized to that.
  const tableRows = P + T;
  const tables = ropeTables(cfg, tableRows);
  const sinSigned = tables.sin;
  for (let p = 0; p < tableRows; p++) for (let j = 0; j < half; j++) sinSigned[p * hd + j] = -sinSigned[p * hd + j];
  const cosTable = g.initializer('rope_cos', tables.cos, [tableRows, hd]);
  const sinTable = g.initializer('rope_sin_signed', sinSigned, [tableRows, hd]);
  const cos = g.unsqueeze(g.gather(cosTable, positionIds, 0), [1]);
  const sin = g.unsqueeze(g.gather(sinTable, positionIds, 0), [1]);
  const swapHalves = (x: Tensor): Tensor => {
    const lead = x.shape.slice(0, -1);
    return g.reshape(g.slice(g.reshape(x, [...lead, 2, half]), [1], [-(2 ** 53)], [lead.length], [-1]), [...x.shape]);
  };
  const rope = (x: Tensor): Tensor => g.add(g.mul(x, cos), g.mul(swapHalves(x), sin));

  const scale = c(1 / Math.sqrt(hd));
  const keys: Tensor[] = [];
  const values: Tensor[] = [];
  let h = g.gather(params.tensor('model.embed_tokens.weight'), inputIds, 0); // [B,T,d]

  for (let l = 0; l < cfg.numLayers; l++) {
    const attnPrefix = (m: LinearModule) => layerModulePrefix(l, m);
    const x = rmsNorm(h, `model.layers.${l}.input_layernorm.weight`);
    const heads = (t: Tensor, n: number) => g.transpose(g.reshape(t, [B, T, n, hd]), [0, 2, 1, 3]); // [B,n,T,hd]
    const q = rope(heads(linear(x, attnPrefix('q_proj'), 'q_proj', cfg.attentionBias), H));
    const k = rope(heads(linear(x, attnPrefix('k_proj'), 'k_proj', cfg.attentionBias), KV));
    const v = heads(linear(x, attnPrefix('v_proj'), 'v_proj', cfg.attentionBias), KV);
    if (opts.emitKeyValues) {
      keys.push(k);
      values.push(v);
    }
    const S = P + T;
    // Grouped-query attention without copying keys: the `rep` query heads sharing one kv head are laid out
    // contiguously (transformers' repeat_kv order), so [B,H,T,hd] reshapes to [B,KV,rep*T,hd].
    const qg = g.reshape(q, [B, KV, rep * T, hd]);
    let ctx: Tensor;
    if (P > 0) {
      // KV-cache step: the cache and the new tokens are attended separately and only the small score tensors are
      // concatenated (one softmax over both), so the [B,KV,P,hd] cache is never copied into a [B,KV,P+T,hd] one.
      const pk = g.input(pastKeyName(l), [B, KV, P, hd], 'float32');
      const pv = g.input(pastValueName(l), [B, KV, P, hd], 'float32');
      pastKeys.push(pk);
      pastValues.push(pv);
      const pastScores = g.matmul(qg, g.transpose(pk, [0, 1, 3, 2])); // [B,KV,rep*T,P]
      const newScores = g.matmul(qg, g.transpose(k, [0, 1, 3, 2])); // [B,KV,rep*T,T]
      let scores = g.mul(g.concat([pastScores, newScores], 3), scale);
      scores = g.add(g.reshape(scores, [B, H, T, S]), attentionBias);
      const probs = g.reshape(g.softmax(scores, 3), [B, KV, rep * T, S]);
      const pastProbs = g.slice(probs, [0], [P], [3]);
      const newProbs = g.slice(probs, [P], [S], [3]);
      ctx = g.reshape(g.add(g.matmul(pastProbs, pv), g.matmul(newProbs, v)), [B, H, T, hd]);
    } else {
      let scores = g.mul(g.matmul(qg, g.transpose(k, [0, 1, 3, 2])), scale); // [B,KV,rep*T,S]
      scores = g.add(g.reshape(scores, [B, H, T, S]), attentionBias);
      const probs = g.reshape(g.softmax(scores, 3), [B, KV, rep * T, S]);
      ctx = g.reshape(g.matmul(probs, v), [B, H, T, hd]);
    }
    const merged = g.reshape(g.transpose(ctx, [0, 2, 1, 3]), [B, T, H * hd]);
    h = g.add(h, linear(merged, attnPrefix('o_proj'), 'o_proj', cfg.attentionOutputBias));

    const y = rmsNorm(h, `model.layers.${l}.post_attention_layernorm.weight`);
    const gate = linear(y, layerModulePrefix(l, 'gate_proj'), 'gate_proj', cfg.mlpBias);
    const up = linear(y, layerModulePrefix(l, 'up_proj'), 'up_proj', cfg.mlpBias);
    h = g.add(h, linear(g.mul(g.silu(gate), up), layerModulePrefix(l, 'down_proj'), 'down_proj', cfg.mlpBias));
  }

  let last = h;
  if (opts.logitsRange) {
    const [s, e] = opts.logitsRange;
    if (!(s >= 0 && e <= T && s < e)) throw new Error(`logitsRange [${s}, ${e}) is outside the sequence of ${T}`);
    if (s !== 0 || e !== T) last = g.slice(h, [s], [e], [1]);
  }
  last = rmsNorm(last, 'model.norm.weight');
  const head = cfg.tieWordEmbeddings
    ? g.transpose(params.tensor('model.embed_tokens.weight'), [1, 0])
    : params.transposed('lm_head.weight');
  let logits: Tensor | null = null;
  return {
    inputIds,
    positionIds,
    attentionBias,
    get logits() {
      return (logits ??= g.matmul(last, head));
    },
    hidden: last,
    head,
    keys,
    values,
    pastKeys,
    pastValues,
  };
}

