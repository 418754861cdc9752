import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTinyEmbedder } from './build.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tiny-embedder-'));
const read = (sub: string, f: string) => readFileSync(path.join(dir, sub, f));

function feeds(batch: number, seq: number, ids: number[], mask: number[]) {
  const t = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [batch, seq]);
  return { input_ids: t(ids), attention_mask: t(mask), token_type_ids: t(new Array(batch * seq).fill(0)) };
}

describe('tiny embedder builder', () => {
  beforeAll(async () => {
    await buildTinyEmbedder({ out: path.join(dir, 'a'), seed: 7, hidden: 16 });
    await buildTinyEmbedder({ out: path.join(dir, 'b'), seed: 7, hidden: 16 });
    await buildTinyEmbedder({ out: path.join(dir, 'c'), seed: 8, hidden: 16 });
  });

  it('writes the Hugging Face layout, byte-identical for one seed and different for another', () => {
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) {
      expect(read('a', f).equals(read('b', f))).toBe(true);
    }
    expect(read('a', 'onnx/model.onnx').equals(read('c', 'onnx/model.onnx'))).toBe(false);
    expect(read('a', 'tokenizer.json').equals(read('c', 'tokenizer.json'))).toBe(true);
    const config = JSON.parse(read('a', 'config.json').toString());
    expect(config).toMatchObject({ model_type: 'bert', hidden_size: 16, num_hidden_layers: 1 });
    const tok = JSON.parse(read('a', 'tokenizer.json').toString());
    expect(tok.model.type).toBe('WordPiece');
    expect(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) => tok.model.vocab[t])).toEqual([0, 1, 2, 3, 4]);
    expect(tok.post_processor.special_tokens['[CLS]'].ids).toEqual([2]);
    expect(config.vocab_size).toBe(Object.keys(tok.model.vocab).length);
  });

  it('runs in onnxruntime with any batch size and sequence length', async () => {
    const session = await ort.InferenceSession.create(path.join(dir, 'a', 'onnx', 'model.onnx'));
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    for (const [batch, seq] of [[1, 3], [4, 9]]) {
      const n = batch * seq;
      const ids = Array.from({ length: n }, (_, i) => 5 + ((i * 7) % 50));
      const out = (await session.run(feeds(batch, seq, ids, new Array(n).fill(1)))).last_hidden_state;
      expect(out.dims).toEqual([batch, seq, 16]);
      // The last op is a LayerNorm with unit gain and zero bias: every token vector has mean 0, variance 1.
      const data = out.data as Float32Array;
      for (let t = 0; t < n; t++) {
        const v = data.subarray(t * 16, (t + 1) * 16);
        const mean = v.reduce((s, x) => s + x, 0) / 16;
        const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / 16;
        expect(mean).toBeCloseTo(0, 4);
        expect(variance).toBeCloseTo(1, 3);
      }
    }
    await session.release();
  });

  it('masks padding: real tokens get the same output with or without padded positions after them', async () => {
    const session = await ort.InferenceSession.create(path.join(dir, 'a', 'onnx', 'model.onnx'));
    const alone = (await session.run(feeds(1, 4, [2, 40, 41, 3], [1, 1, 1, 1]))).last_hidden_state.data as Float32Array;
    const padded = (await session.run(feeds(1, 7, [2, 40, 41, 3, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0]))).last_hidden_state.data as Float32Array;
    for (let i = 0; i < 4 * 16; i++) expect(padded[i]).toBeCloseTo(alone[i], 5);
    // Without the mask the padding would be attended to and change the real tokens.
    const unmasked = (await session.run(feeds(1, 7, [2, 40, 41, 3, 0, 0, 0], new Array(7).fill(1)))).last_hidden_state.data as Float32Array;
    expect(Math.max(...Array.from(alone, (x, i) => Math.abs(x - unmasked[i])))).toBeGreaterThan(1e-3);
    await session.release();
  });

  it('refuses a bad seed or hidden size', async () => {
    await expect(buildTinyEmbedder({ out: path.join(dir, 'x'), seed: -1 })).rejects.toThrow(/seed must be a non-negative integer/);
    await expect(buildTinyEmbedder({ out: path.join(dir, 'x'), seed: 0, hidden: 1.5 })).rejects.toThrow(/hidden must be an integer/);
  });
});
