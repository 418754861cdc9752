/**
 * bert-onnx.ts without downloads: a random 2-layer, 4-head BERT through onnxruntime against a naive
 * float64 forward of Hugging Face's BertModel written here; padding masked. (The real checkpoint is
 * checked against sentence-transformers in minilm.test.ts.)
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { writeModel } from '@ragrpo/graph';
import { mulberry32, normalSampler } from '@ragrpo/config';
import { bertOnnxGraph, type BertConfig, type WeightLike } from './bert-onnx.ts';

const C: BertConfig = { vocabSize: 50, hidden: 32, layers: 2, heads: 4, intermediate: 48, maxPositions: 16, typeVocabSize: 2, layerNormEps: 1e-12 };

function randomWeights(seed: number): Map<string, WeightLike> {
  const draw = normalSampler(mulberry32(seed));
  const w = new Map<string, WeightLike>();
  const add = (name: string, shape: number[], std: number, mean = 0) => {
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => mean + std * draw());
    w.set(name, { shape, data });
  };
  const H = C.hidden, I = C.intermediate;
  add('embeddings.word_embeddings.weight', [C.vocabSize, H], 1);
  add('embeddings.position_embeddings.weight', [C.maxPositions, H], 0.3);
  add('embeddings.token_type_embeddings.weight', [C.typeVocabSize, H], 0.3);
  add('embeddings.LayerNorm.weight', [H], 0.1, 1);
  add('embeddings.LayerNorm.bias', [H], 0.1);
  for (let l = 0; l < C.layers; l++) {
    const p = `encoder.layer.${l}`;
    for (const m of ['query', 'key', 'value']) { add(`${p}.attention.self.${m}.weight`, [H, H], 0.3); add(`${p}.attention.self.${m}.bias`, [H], 0.1); }
    add(`${p}.attention.output.dense.weight`, [H, H], 0.2); add(`${p}.attention.output.dense.bias`, [H], 0.1);
    add(`${p}.attention.output.LayerNorm.weight`, [H], 0.1, 1); add(`${p}.attention.output.LayerNorm.bias`, [H], 0.1);
    add(`${p}.intermediate.dense.weight`, [I, H], 0.2); add(`${p}.intermediate.dense.bias`, [I], 0.1);
    add(`${p}.output.dense.weight`, [H, I], 0.2); add(`${p}.output.dense.bias`, [H], 0.1);
    add(`${p}.output.LayerNorm.weight`, [H], 0.1, 1); add(`${p}.output.LayerNorm.bias`, [H], 0.1);
  }
  return w;
}

/** BertModel's forward for one sequence, float64: keys where mask = 0 get finfo(float32).min added. */
function naive(w: Map<string, WeightLike>, ids: number[], mask: number[], types: number[]): number[][] {
  const g = (n: string) => w.get(n)!;
  const H = C.hidden, hd = H / C.heads, T = ids.length;
  const ln = (x: number[], p: string) => {
    const m = x.reduce((a, b) => a + b, 0) / x.length;
    const v = x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length;
    return x.map((xi, i) => ((xi - m) / Math.sqrt(v + C.layerNormEps)) * g(`${p}.weight`).data[i]! + g(`${p}.bias`).data[i]!);
  };
  const lin = (x: number[], p: string) => {
    const W = g(`${p}.weight`), b = g(`${p}.bias`);
    const [out, inp] = W.shape as [number, number];
    return Array.from({ length: out }, (_, o) => { let s = b.data[o]!; for (let i = 0; i < inp; i++) s += W.data[o * inp + i]! * x[i]!; return s; });
  };
  let x = ids.map((id, t) => ln(Array.from({ length: H }, (_, j) =>
    g('embeddings.word_embeddings.weight').data[id * H + j]! + g('embeddings.position_embeddings.weight').data[t * H + j]! + g('embeddings.token_type_embeddings.weight').data[types[t]! * H + j]!), 'embeddings.LayerNorm'));
  for (let l = 0; l < C.layers; l++) {
    const p = `encoder.layer.${l}`;
    const q = x.map((r) => lin(r, `${p}.attention.self.query`));
    const k = x.map((r) => lin(r, `${p}.attention.self.key`));
    const v = x.map((r) => lin(r, `${p}.attention.self.value`));
    const ctx = x.map(() => new Array<number>(H).fill(0));
    for (let h = 0; h < C.heads; h++) {
      for (let t = 0; t < T; t++) {
        const s = Array.from({ length: T }, (_, u) => {
          let d = 0; for (let j = 0; j < hd; j++) d += q[t]![h * hd + j]! * k[u]![h * hd + j]!;
          return d / Math.sqrt(hd) + (mask[u] ? 0 : -3.4028234663852886e38);
        });
        const mx = Math.max(...s);
        const e = s.map((z) => Math.exp(z - mx));
        const z = e.reduce((a, b) => a + b, 0);
        for (let u = 0; u < T; u++) for (let j = 0; j < hd; j++) ctx[t]![h * hd + j]! += (e[u]! / z) * v[u]![h * hd + j]!;
      }
    }
    const x1 = x.map((r, t) => ln(lin(ctx[t]!, `${p}.attention.output.dense`).map((a, j) => a + r[j]!), `${p}.attention.output.LayerNorm`));
    x = x1.map((r) => {
      const hmid = lin(r, `${p}.intermediate.dense`).map((a) => 0.5 * a * (1 + erf(a / Math.SQRT2)));
      return ln(lin(hmid, `${p}.output.dense`).map((a, j) => a + r[j]!), `${p}.output.LayerNorm`);
    });
  }
  return x;
}

/** Abramowitz-Stegun 7.1.26 is too coarse here; a series/continued-fraction erf accurate to ~1e-15. */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let sum = ax, term = ax;
    for (let n = 1; n < 100; n++) { term *= (-ax * ax) / n; const add = term / (2 * n + 1); sum += add; if (Math.abs(add) < 1e-17) break; }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f));
}

describe('bert-onnx', () => {
  it('matches a float64 BertModel forward, with padding masked, for any batch and length', async () => {
    const w = randomWeights(11);
    const session = await ort.InferenceSession.create(writeModel(bertOnnxGraph(C, w)));
    const B = 2, T = 7;
    const ids = [3, 17, 8, 42, 5, 9, 1, 3, 30, 12, 2, 0, 0, 0];
    const mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0];
    const types = [0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    const t = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [B, T]);
    const out = await session.run({ input_ids: t(ids), attention_mask: t(mask), token_type_ids: t(types) });
    const y = out['last_hidden_state']!;
    expect(y.dims).toEqual([B, T, C.hidden]);
    const data = y.data as Float32Array;
    let maxErr = 0;
    for (let b = 0; b < B; b++) {
      const want = naive(w, ids.slice(b * T, b * T + T), mask.slice(b * T, b * T + T), types.slice(b * T, b * T + T));
      for (let i = 0; i < T; i++) for (let j = 0; j < C.hidden; j++) maxErr = Math.max(maxErr, Math.abs(data[(b * T + i) * C.hidden + j]! - want[i]![j]!));
    }
    expect(maxErr).toBeLessThan(1e-4);
    // the unpadded prefix of row 1 alone gives the same states: padding is masked out
    const alone = await session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.slice(T, T + 4).map(BigInt)), [1, 4]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from([1n, 1n, 1n, 1n]), [1, 4]),
      token_type_ids: new ort.Tensor('int64', BigInt64Array.from([0n, 0n, 0n, 0n]), [1, 4]),
    });
    const a = alone['last_hidden_state']!.data as Float32Array;
    for (let i = 0; i < 4 * C.hidden; i++) expect(Math.abs(a[i]! - data[T * C.hidden + i]!)).toBeLessThan(1e-5);
  });

  it('refuses checkpoints missing a weight or with a wrong shape', () => {
    const w = randomWeights(1);
    w.delete('encoder.layer.1.output.dense.bias');
    expect(() => bertOnnxGraph(C, w)).toThrow(/encoder\.layer\.1\.output\.dense\.bias missing/);
    const v = randomWeights(1);
    v.set('encoder.layer.0.attention.self.query.weight', { shape: [32, 16], data: new Float32Array(512) });
    expect(() => bertOnnxGraph(C, v)).toThrow(/query\.weight: shape \[32, 16\], expected \[32, 32\]/);
  });
});
