/**
 * A BERT encoder (Hugging Face BertModel: absolute positions, post-LayerNorm, erf GELU) as ONNX
 * nodes over given weights, in the style of tools/tiny-embedder/bert-graph.ts (hand-listed nodes,
 * `@ragrpo/graph`'s writeModel, symbolic batch/sequence dims) but with any number of layers and
 * heads. Inputs input_ids, attention_mask, token_type_ids (int64 [batch_size, sequence_length]);
 * output last_hidden_state float32 [batch_size, sequence_length, hidden], which transformers.js'
 * feature-extraction pipeline mean-pools and normalises.
 */
import type { Attr, ConstTensor, GraphDef, NodeDef } from '@ragrpo/graph';

const FLOAT = 1;
/** What transformers adds to the scores of padded keys: torch.finfo(float32).min. */
const MASK_FILL = -3.4028234663852886e38;

export interface BertConfig {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
}

export interface WeightLike {
  shape: number[];
  data: ArrayLike<number>;
}

/** Reads the BertModel config.json fields this graph uses; refuses what it does not implement. */
export function bertConfig(cfg: Record<string, unknown>, file = 'config.json'): BertConfig {
  const num = (k: string) => {
    const v = cfg[k];
    if (typeof v !== 'number') throw new Error(`${file}: ${k} missing`);
    return v;
  };
  if (cfg['model_type'] !== 'bert') throw new Error(`${file}: model_type ${JSON.stringify(cfg['model_type'])}; only bert encoders are converted`);
  if ((cfg['hidden_act'] ?? 'gelu') !== 'gelu') throw new Error(`${file}: hidden_act ${JSON.stringify(cfg['hidden_act'])} (only gelu)`);
  if ((cfg['position_embedding_type'] ?? 'absolute') !== 'absolute') throw new Error(`${file}: position_embedding_type ${JSON.stringify(cfg['position_embedding_type'])} (only absolute)`);
  const c: BertConfig = {
    vocabSize: num('vocab_size'), hidden: num('hidden_size'), layers: num('num_hidden_layers'), heads: num('num_attention_heads'),
    intermediate: num('intermediate_size'), maxPositions: num('max_position_embeddings'), typeVocabSize: num('type_vocab_size'),
    layerNormEps: num('layer_norm_eps'),
  };
  if (c.hidden % c.heads !== 0) throw new Error(`${file}: hidden_size ${c.hidden} is not a multiple of num_attention_heads ${c.heads}`);
  return c;
}

/** Hugging Face BertModel weight names (the sentence-transformers checkpoint has no "bert." prefix). */
export function bertWeightName(name: string, weights: Map<string, WeightLike>): WeightLike {
  const w = weights.get(name) ?? weights.get(`bert.${name}`);
  if (!w) throw new Error(`weight ${name} missing from the checkpoint`);
  return w;
}

export function bertOnnxGraph(c: BertConfig, weights: Map<string, WeightLike>, opset = 17): GraphDef {
  const H = c.hidden;
  const hd = H / c.heads;
  const initializers: ConstTensor[] = [];
  const f32 = (name: string, dims: number[], data: Float32Array) => { initializers.push({ name, dtype: 'float32', dims, data }); return name; };
  const i64 = (name: string, values: number[], dims = [values.length]) => { initializers.push({ name, dtype: 'int64', dims, data: BigInt64Array.from(values.map(BigInt)) }); return name; };
  const scalar = (name: string, v: number) => f32(name, [], Float32Array.of(v));
  const w = (hfName: string, expect: number[]) => {
    const t = bertWeightName(hfName, weights);
    if (t.shape.join() !== expect.join()) throw new Error(`${hfName}: shape [${t.shape.join(', ')}], expected [${expect.join(', ')}]`);
    return t;
  };
  const vec = (hfName: string, n: number, name: string) => f32(name, [n], Float32Array.from(w(hfName, [n]).data));
  const matT = (hfName: string, out: number, inp: number, name: string) => {
    // [out, in] (torch Linear) -> [in, out] so the graph computes x @ W^T with a plain MatMul
    const t = w(hfName, [out, inp]);
    const d = new Float32Array(out * inp);
    for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) d[i * out + o] = t.data[o * inp + i]!;
    return f32(name, [inp, out], d);
  };
  const emb = (hfName: string, rows: number, name: string) => f32(name, [rows, H], Float32Array.from(w(hfName, [rows, H]).data));

  const nodes: NodeDef[] = [];
  const op = (opType: string, inputs: string[], output: string, attrs: Record<string, Attr> = {}) => {
    nodes.push({ opType, inputs, outputs: [output], name: output, attrs });
    return output;
  };
  const linear = (x: string, wT: string, b: string, out: string) => op('Add', [op('MatMul', [x, wT], `${out}_mm`), b], out);
  const layerNorm = (x: string, prefix: string, hfPrefix: string, out: string) =>
    op('LayerNormalization', [x, vec(`${hfPrefix}.weight`, H, `${prefix}_gamma`), vec(`${hfPrefix}.bias`, H, `${prefix}_beta`)], out, { axis: { i: -1 }, epsilon: { f: c.layerNormEps } });

  i64('zero_i64', [0], []);
  i64('one_i64', [1], []);
  i64('axes_1_2', [1, 2]);
  i64('heads_shape', [0, 0, c.heads, hd]);
  i64('hidden_shape', [0, 0, H]);
  scalar('one_f', 1);
  scalar('half_f', 0.5);
  scalar('sqrt2_f', Math.SQRT2);
  scalar('attn_scale', 1 / Math.sqrt(hd));
  scalar('mask_fill', MASK_FILL);

  // Embeddings; positions 0..seq-1 from the runtime sequence length.
  const seqLen = op('Gather', [op('Shape', ['input_ids'], 'ids_shape'), 'one_i64'], 'seq_len', { axis: { i: 0 } });
  const positions = op('Range', ['zero_i64', seqLen, 'one_i64'], 'position_ids');
  const sum = op('Add', [
    op('Add', [
      op('Gather', [emb('embeddings.word_embeddings.weight', c.vocabSize, 'word_embeddings'), 'input_ids'], 'word_emb', { axis: { i: 0 } }),
      op('Gather', [emb('embeddings.position_embeddings.weight', c.maxPositions, 'position_embeddings'), positions], 'pos_emb', { axis: { i: 0 } }),
    ], 'emb_wp'),
    op('Gather', [emb('embeddings.token_type_embeddings.weight', c.typeVocabSize, 'token_type_embeddings'), 'token_type_ids'], 'type_emb', { axis: { i: 0 } }),
  ], 'emb_sum');
  let x = layerNorm(sum, 'emb_ln', 'embeddings.LayerNorm', 'x_emb');

  // The padding mask as an additive [batch, 1, 1, seq] bias over the keys.
  const maskF = op('Cast', ['attention_mask'], 'mask_f', { to: { i: FLOAT } });
  const bias = op('Unsqueeze', [op('Mul', [op('Sub', ['one_f', maskF], 'mask_inv'), 'mask_fill'], 'mask_bias2'), 'axes_1_2'], 'mask_bias');

  for (let l = 0; l < c.layers; l++) {
    const p = `encoder.layer.${l}`;
    const n = (s: string) => `l${l}_${s}`;
    const heads = (t: string, name: string) => op('Transpose', [op('Reshape', [t, 'heads_shape'], `${name}_4d`)], name, { perm: { ints: [0, 2, 1, 3] } });
    const q = heads(linear(x, matT(`${p}.attention.self.query.weight`, H, H, n('wq')), vec(`${p}.attention.self.query.bias`, H, n('bq')), n('q')), n('q_h'));
    const kT = op('Transpose', [op('Reshape', [linear(x, matT(`${p}.attention.self.key.weight`, H, H, n('wk')), vec(`${p}.attention.self.key.bias`, H, n('bk')), n('k')), 'heads_shape'], n('k_4d'))], n('k_t'), { perm: { ints: [0, 2, 3, 1] } });
    const v = heads(linear(x, matT(`${p}.attention.self.value.weight`, H, H, n('wv')), vec(`${p}.attention.self.value.bias`, H, n('bv')), n('v')), n('v_h'));
    const scores = op('Add', [op('Mul', [op('MatMul', [q, kT], n('qk')), 'attn_scale'], n('scores')), bias], n('scores_masked'));
    const probs = op('Softmax', [scores], n('probs'), { axis: { i: -1 } });
    const ctx = op('Reshape', [op('Transpose', [op('MatMul', [probs, v], n('ctx_h'))], n('ctx_t'), { perm: { ints: [0, 2, 1, 3] } }), 'hidden_shape'], n('ctx'));
    const attn = linear(ctx, matT(`${p}.attention.output.dense.weight`, H, H, n('wo')), vec(`${p}.attention.output.dense.bias`, H, n('bo')), n('attn_out'));
    const x1 = layerNorm(op('Add', [attn, x], n('res1')), n('attn_ln'), `${p}.attention.output.LayerNorm`, n('x1'));
    // Feed-forward with GELU(h) = 0.5 h (1 + erf(h / sqrt 2)), as transformers' "gelu".
    const h = linear(x1, matT(`${p}.intermediate.dense.weight`, c.intermediate, H, n('w1')), vec(`${p}.intermediate.dense.bias`, c.intermediate, n('b1')), n('ffn_h'));
    const erf = op('Erf', [op('Div', [h, 'sqrt2_f'], n('ffn_h_scaled'))], n('ffn_erf'));
    const gelu = op('Mul', [op('Mul', [h, op('Add', [erf, 'one_f'], n('ffn_erf1'))], n('ffn_hg')), 'half_f'], n('ffn_gelu'));
    const f = linear(gelu, matT(`${p}.output.dense.weight`, H, c.intermediate, n('w2')), vec(`${p}.output.dense.bias`, H, n('b2')), n('ffn_out'));
    x = layerNorm(op('Add', [f, x1], n('res2')), n('out_ln'), `${p}.output.LayerNorm`, l === c.layers - 1 ? 'last_hidden_state' : n('x2'));
  }

  const ids = (name: string) => ({ name, dtype: 'int64' as const, shape: ['batch_size', 'sequence_length'] });
  return {
    name: 'bert_encoder',
    opset,
    nodes,
    initializers,
    inputs: [ids('input_ids'), ids('attention_mask'), ids('token_type_ids')],
    outputs: [{ name: 'last_hidden_state', dtype: 'float32', shape: ['batch_size', 'sequence_length', H] }],
  };
}
