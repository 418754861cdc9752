/**
 * The tiny embedder's network as ONNX nodes: one BERT encoder layer.
 *   embeddings (word + position + token type) -> LayerNorm
 *   -> single-head self-attention with the padding mask -> residual + LayerNorm
 *   -> feed-forward (GELU, erf form) -> residual + LayerNorm -> last_hidden_state
 * Inputs are int64 [batch, sequence] with symbolic dims, as transformers.js feeds them.
 */
import { mulberry32, normalSampler, streamSeed } from '@ragrpo/config';
import type { Attr, ConstTensor, GraphDef, NodeDef } from '@ragrpo/graph';

/** ONNX TensorProto.DataType FLOAT, for the Cast node. */
const FLOAT = 1;

export interface BertShape {
  vocabSize: number;
  hidden: number;
  intermediate: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
}

/** Weights drawn from N(0, std^2), one independent stream per tensor name so shapes do not shift each other. */
function normal(seed: number, name: string, dims: number[], std: number): ConstTensor {
  const draw = normalSampler(mulberry32(streamSeed(seed, name)));
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = draw() * std;
  return { name, dtype: 'float32', dims, data };
}

function filled(name: string, dims: number[], value: number): ConstTensor {
  return { name, dtype: 'float32', dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value) };
}

function int64(name: string, values: number[], dims: number[] = [values.length]): ConstTensor {
  return { name, dtype: 'int64', dims, data: BigInt64Array.from(values.map(BigInt)) };
}

export function bertGraph(shape: BertShape, seed: number, opset: number): GraphDef {
  const { vocabSize: V, hidden: H, intermediate: I, maxPositions: P, typeVocabSize: T } = shape;
  const wStd = 1 / Math.sqrt(H);
  const initializers: ConstTensor[] = [
    normal(seed, 'word_embeddings', [V, H], 1),
    normal(seed, 'position_embeddings', [P, H], 0.1),
    normal(seed, 'token_type_embeddings', [T, H], 0.1),
    filled('emb_ln_gamma', [H], 1), filled('emb_ln_beta', [H], 0),
    normal(seed, 'wq', [H, H], wStd), normal(seed, 'bq', [H], 0.02),
    normal(seed, 'wk', [H, H], wStd), normal(seed, 'bk', [H], 0.02),
    normal(seed, 'wv', [H, H], wStd), normal(seed, 'bv', [H], 0.02),
    normal(seed, 'wo', [H, H], wStd), normal(seed, 'bo', [H], 0.02),
    filled('attn_ln_gamma', [H], 1), filled('attn_ln_beta', [H], 0),
    normal(seed, 'w1', [H, I], wStd), normal(seed, 'b1', [I], 0.02),
    normal(seed, 'w2', [I, H], 1 / Math.sqrt(I)), normal(seed, 'b2', [H], 0.02),
    filled('out_ln_gamma', [H], 1), filled('out_ln_beta', [H], 0),
    int64('zero_i64', [0], []), int64('one_i64', [1], []), int64('axis_1', [1]),
    filled('one_f', [], 1), filled('half_f', [], 0.5), filled('sqrt2_f', [], Math.SQRT2),
    filled('attn_scale', [], 1 / Math.sqrt(H)),
    // Added to the scores of padded keys: exp(-1e4) is 0 in float32, so padding never leaks in.
    filled('mask_fill', [], -1e4),
  ];
  const nodes: NodeDef[] = [];
  const op = (opType: string, inputs: string[], output: string, attrs: Record<string, Attr> = {}) => {
    nodes.push({ opType, inputs, outputs: [output], name: output, attrs });
    return output;
  };
  const linear = (x: string, w: string, b: string, out: string) => op('Add', [op('MatMul', [x, w], `${out}_mm`), b], out);
  const layerNorm = (x: string, prefix: string, out: string) =>
    op('LayerNormalization', [x, `${prefix}_gamma`, `${prefix}_beta`], out, { axis: { i: -1 }, epsilon: { f: shape.layerNormEps } });

  // Embeddings; positions are 0..seq-1 from the runtime sequence length.
  const seqLen = op('Gather', [op('Shape', ['input_ids'], 'ids_shape'), 'one_i64'], 'seq_len', { axis: { i: 0 } });
  const positions = op('Range', ['zero_i64', seqLen, 'one_i64'], 'position_ids');
  const sum = op('Add', [
    op('Add', [
      op('Gather', ['word_embeddings', 'input_ids'], 'word_emb', { axis: { i: 0 } }),
      op('Gather', ['position_embeddings', positions], 'pos_emb', { axis: { i: 0 } }),
    ], 'emb_wp'),
    op('Gather', ['token_type_embeddings', 'token_type_ids'], 'type_emb', { axis: { i: 0 } }),
  ], 'emb_sum');
  const x0 = layerNorm(sum, 'emb_ln', 'x0');

  // Self-attention; the mask turns into an additive [batch, 1, seq] bias over the keys.
  const q = linear(x0, 'wq', 'bq', 'q');
  const k = linear(x0, 'wk', 'bk', 'k');
  const v = linear(x0, 'wv', 'bv', 'v');
  const scores = op('Mul', [op('MatMul', [q, op('Transpose', [k], 'k_t', { perm: { ints: [0, 2, 1] } })], 'qk'), 'attn_scale'], 'scores');
  const maskF = op('Cast', ['attention_mask'], 'mask_f', { to: { i: FLOAT } });
  const bias = op('Unsqueeze', [op('Mul', [op('Sub', ['one_f', maskF], 'mask_inv'), 'mask_fill'], 'mask_bias2'), 'axis_1'], 'mask_bias');
  const probs = op('Softmax', [op('Add', [scores, bias], 'scores_masked')], 'probs', { axis: { i: -1 } });
  const attn = linear(op('MatMul', [probs, v], 'context'), 'wo', 'bo', 'attn_out');
  const x1 = layerNorm(op('Add', [x0, attn], 'res1'), 'attn_ln', 'x1');

  // Feed-forward with GELU(h) = 0.5 h (1 + erf(h / sqrt 2)).
  const h = linear(x1, 'w1', 'b1', 'ffn_h');
  const erf = op('Erf', [op('Div', [h, 'sqrt2_f'], 'ffn_h_scaled')], 'ffn_erf');
  const gelu = op('Mul', [op('Mul', [h, op('Add', [erf, 'one_f'], 'ffn_erf1')], 'ffn_hg'), 'half_f'], 'ffn_gelu');
  const f = linear(gelu, 'w2', 'b2', 'ffn_out');
  layerNorm(op('Add', [x1, f], 'res2'), 'out_ln', 'last_hidden_state');

  const ids = (name: string) => ({ name, dtype: 'int64' as const, shape: ['batch_size', 'sequence_length'] });
  return {
    name: 'tiny_bert_embedder',
    opset,
    nodes,
    initializers,
    inputs: [ids('input_ids'), ids('attention_mask'), ids('token_type_ids')],
    outputs: [{ name: 'last_hidden_state', dtype: 'float32', shape: ['batch_size', 'sequence_length', H] }],
  };
}
