/**
 * The importer on tiny models: a scratch Hugging Face folder written as GGUF the way llama.cpp does
 * (q/k rows permuted for Llama, tied embeddings without output.weight), imported back, must give the
 * same weights, config and tokenizer; refusals name what is wrong.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildScratchModel, loadModel, loadTokenizer, Policy, readModelFolder, readSafetensors } from '@ragrpo/model';
import { dequantize, importGguf, llama3RopeFactors, readGguf } from '../src/index.ts';
import { f16Bytes, f32Bytes, folderToGguf, q8_0Bytes } from './gguf-writer.ts';

const CORPUS = [
  'The wine has notes of cherry, plum and a hint of oak. It costs 25 dollars.',
  'A crisp white wine with citrus, green apple and a mineral finish.',
  'Der Riesling duftet nach Pfirsich und Aprikose; er ist trocken und lebendig.',
  'def add(a, b):\n    return a + b\n',
  'Cheers! 🍷 This wine is amazing, 10/10.',
];
const TEXTS = ['The wine has notes of cherry', 'Der Riesling ist trocken.', 'def f(x):\n    return x * 2\n', 'emoji 🍷🍇 and 12345'];

let dir: string;
const folders: Record<string, string> = {};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ragrpo-gguf-'));
  const base = { layers: 2, hidden: 64, heads: 4, intermediate: 96, maxPositions: 128, corpus: CORPUS, vocabSize: 320 };
  for (const [name, arch, kvHeads, seed] of [['llama', 'llama', 2, 1], ['qwen2', 'qwen2', 2, 2], ['smollm', 'smollm', 1, 3]] as const) {
    folders[name] = path.join(dir, name);
    await buildScratchModel({ ...base, out: folders[name]!, arch, kvHeads, seed, initStd: 0.1 });
  }
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function weightsOf(folder: string) {
  return (await readModelFolder(folder, { tokenizer: false })).weights;
}

describe('import of float GGUFs', () => {
  for (const name of ['llama', 'qwen2', 'smollm']) {
    it(`${name}: F32 GGUF imports to the same weights, config and tokenizer`, async () => {
      const gguf = path.join(dir, `${name}.f32.gguf`);
      await folderToGguf(folders[name]!, gguf);
      const out = path.join(dir, `${name}-imported`);
      const r = await importGguf(gguf, out);
      const orig = await readModelFolder(folders[name]!, { tokenizer: false });
      const imported = await readModelFolder(out, { tokenizer: false });
      const { torchDtype: _a, ...want } = orig.config;
      const { torchDtype: _b, ...got } = imported.config;
      expect(got).toEqual(want);
      expect(r.config.tieWordEmbeddings).toBe(orig.config.tieWordEmbeddings);
      // tied: no lm_head written, as in the original folder
      expect(imported.weights.has('lm_head.weight')).toBe(orig.weights.has('lm_head.weight'));
      expect([...imported.weights.keys()].sort()).toEqual([...orig.weights.keys()].sort());
      for (const [n, w] of orig.weights) {
        const v = imported.weights.get(n)!;
        expect(v.shape, n).toEqual(w.shape);
        expect(Buffer.from(f32Bytes(v.data as Float32Array)).equals(Buffer.from(f32Bytes(w.data as Float32Array))), `${n} differs`).toBe(true);
      }
      const a = await loadTokenizer(folders[name]!);
      const b = await loadTokenizer(out);
      for (const t of TEXTS) expect(b.encode(t), t).toEqual(a.encode(t));
      const chat = [{ role: 'user', content: 'Name a red wine grape.' }];
      expect(b.applyChatTemplate(chat, { addGenerationPrompt: true })).toBe(a.applyChatTemplate(chat, { addGenerationPrompt: true }));
      expect(b.eosTokenId).toBe(a.eosTokenId);
      expect(b.decode(b.encode(TEXTS[3]!))).toBe(TEXTS[3]);
    });
  }

  it('the imported llama folder runs in the engine with the logits of the original', async () => {
    const out = path.join(dir, 'llama-imported');
    const m0 = await loadModel(folders['llama']!);
    const m1 = await loadModel(out);
    const ids = m0.tokenizer!.encode(TEXTS[0]!);
    const p0 = new Policy({ config: m0.config, weights: m0.weights });
    const p1 = new Policy({ config: m1.config, weights: m1.weights });
    const [l0, l1] = [await p0.forwardLogits([ids]), await p1.forwardLogits([ids])];
    expect(Array.from(l1.data)).toEqual(Array.from(l0.data));
    p0.release();
    p1.release();
  });

  it('F16 and Q8_0 tensors dequantize to the values their bytes hold (q/k permutation undone after dequantization)', async () => {
    const gguf = path.join(dir, 'smollm.mixed.gguf');
    const typeOf = (n: string, shape: number[]) => (n.endsWith('norm.weight') ? 0 : shape.length === 2 && n.includes('attn') ? 8 : 1);
    await folderToGguf(folders['llama']!, gguf, { typeOf });
    const out = path.join(dir, 'llama-mixed');
    const r = await importGguf(gguf, out);
    expect(r.tensorTypes).toEqual({ F32: 5, F16: 8, Q8_0: 8 });
    const orig = await weightsOf(folders['llama']!);
    const got = readSafetensors(path.join(out, 'model.safetensors'));
    for (const [n, w] of orig) {
      const x = Float32Array.from(w.data as ArrayLike<number>);
      const t = n.endsWith('norm.weight') ? 0 : n.includes('.self_attn.') ? 8 : 1; // typeOf, by Hugging Face name
      // expected: the original values through the same storage type (no permutation in the round trip)
      const want = t === 0 ? x : t === 1 ? dequantize(1, f16Bytes(x), x.length) : dequantize(8, q8_0Bytes(x), x.length);
      const v = got.get(n)!.data as Float32Array;
      expect(Array.from(v), n).toEqual(Array.from(want));
      // and close to the float weights
      let maxErr = 0;
      for (let i = 0; i < x.length; i++) maxErr = Math.max(maxErr, Math.abs(v[i]! - x[i]!));
      expect(maxErr, n).toBeLessThan(t === 8 ? 0.01 : 1e-3);
    }
  });
});

describe('metadata', () => {
  it('a Llama 3 rope_freqs tensor becomes rope_scaling llama3 (factor recognised); other factors are refused', async () => {
    const gguf = path.join(dir, 'llama3.gguf');
    const factors = Float32Array.from(llama3RopeFactors(16, 500000, { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 }));
    await folderToGguf(folders['llama']!, gguf, {
      kv: { 'llama.rope.freq_base': { t: 'f32', v: 500000 }, 'llama.context_length': { t: 'u32', v: 131072 } },
      extraTensors: [{ name: 'rope_freqs.weight', shape: [8], type: 0, data: f32Bytes(factors) }],
    });
    const r = await importGguf(gguf, path.join(dir, 'llama3'));
    expect(r.config.ropeScaling).toEqual({ type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    expect(r.config.ropeTheta).toBe(500000);

    const bad = path.join(dir, 'llama3-bad.gguf');
    await folderToGguf(folders['llama']!, bad, { extraTensors: [{ name: 'rope_freqs.weight', shape: [8], type: 0, data: f32Bytes(new Float32Array(8).fill(3)) }] });
    await expect(importGguf(bad, path.join(dir, 'llama3-bad'))).rejects.toThrow(/rope_freqs\.weight .* match no Llama 3 rope_scaling/);
  });

  it('add_bos_token true puts BOS in front of encoded text (and only then)', async () => {
    const gguf = path.join(dir, 'bos.gguf');
    await folderToGguf(folders['llama']!, gguf, { kv: { 'tokenizer.ggml.add_bos_token': { t: 'bool', v: true }, 'tokenizer.ggml.bos_token_id': { t: 'u32', v: 1 } } });
    const out = path.join(dir, 'bos');
    await importGguf(gguf, out);
    const tok = await loadTokenizer(out);
    const plain = tok.encode('The wine');
    expect(tok.encode('The wine', { addSpecialTokens: true })).toEqual([1, ...plain]);
    expect(tok.bosTokenId).toBe(1);
  });

  it('readGguf reports shapes in PyTorch order and absolute data offsets', async () => {
    const g = await readGguf(path.join(dir, 'llama.f32.gguf'));
    const embd = g.tensors.find((t) => t.name === 'token_embd.weight')!;
    const config = (await readModelFolder(folders['llama']!, { tokenizer: false })).config;
    expect(embd.shape).toEqual([config.vocabSize, 64]);
    expect(embd.typeName).toBe('F32');
    expect(embd.offset % 32).toBe(0);
    expect(g.metadata.get('general.architecture')).toBe('llama');
  });
});

describe('refusals', () => {
  const out = () => path.join(dir, `refused-${Math.random().toString(36).slice(2)}`);

  it('unsupported tensor types, by name', async () => {
    const gguf = path.join(dir, 'iq4.gguf');
    // IQ4_NL (id 20): 32 values in 18 bytes
    await folderToGguf(folders['llama']!, gguf, { typeOf: (n) => (n === 'blk.0.ffn_up.weight' ? 1 : 0) });
    const g = fs.readFileSync(gguf);
    const info = (await readGguf(gguf)).tensors.find((t) => t.name === 'blk.0.ffn_up.weight')!;
    // patch the type id in the tensor info (u32 right before the u64 offset that follows the dims)
    const nameAt = g.indexOf(Buffer.from('blk.0.ffn_up.weight'));
    const typeAt = nameAt + 'blk.0.ffn_up.weight'.length + 4 + 8 * info.shape.length;
    expect(g.readUInt32LE(typeAt)).toBe(1);
    g.writeUInt32LE(20, typeAt);
    fs.writeFileSync(gguf, g);
    await expect(importGguf(gguf, out())).rejects.toThrow(/tensor type IQ4_NL \(blk\.0\.ffn_up\.weight\) cannot be dequantized; supported: F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, BF16/);
  });

  it('architectures other than llama and qwen2', async () => {
    const gguf = path.join(dir, 'gemma.gguf');
    await folderToGguf(folders['llama']!, gguf, { kv: { 'general.architecture': { t: 'str', v: 'gemma2' } } });
    await expect(importGguf(gguf, out())).rejects.toThrow(/GGUF architecture 'gemma2' is not supported/);
  });

  it('SentencePiece tokenizers and unknown pre-tokenizers', async () => {
    const spm = path.join(dir, 'spm.gguf');
    await folderToGguf(folders['llama']!, spm, { kv: { 'tokenizer.ggml.model': { t: 'str', v: 'llama' } } });
    await expect(importGguf(spm, out())).rejects.toThrow(/tokenizer\.ggml\.model 'llama' \(SentencePiece/);
    const pre = path.join(dir, 'pre.gguf');
    await folderToGguf(folders['llama']!, pre, { pre: 'deepseek-coder' });
    await expect(importGguf(pre, out())).rejects.toThrow(/pre-tokenizer 'deepseek-coder' \(tokenizer\.ggml\.pre\) is not supported; supported: .*smollm/);
  });

  it('tensors that are not part of a decoder, truncated files, non-GGUF files', async () => {
    const extra = path.join(dir, 'extra.gguf');
    await folderToGguf(folders['llama']!, extra, { extraTensors: [{ name: 'blk.0.ffn_gate_exps.weight', shape: [4, 32], type: 0, data: new Uint8Array(512) }] });
    await expect(importGguf(extra, out())).rejects.toThrow(/not part of a Llama\/Qwen2 decoder: blk\.0\.ffn_gate_exps\.weight/);

    const whole = fs.readFileSync(path.join(dir, 'llama.f32.gguf'));
    const cut = path.join(dir, 'cut.gguf');
    fs.writeFileSync(cut, whole.subarray(0, whole.length - 1000));
    await expect(importGguf(cut, out())).rejects.toThrow(/past the end of the file .* truncated download\?/);

    const notGguf = path.join(dir, 'model.safetensors.gguf');
    fs.writeFileSync(notGguf, 'not a gguf at all');
    await expect(importGguf(notGguf, out())).rejects.toThrow(/not a GGUF file/);
    await expect(importGguf(path.join(dir, 'absent.gguf'), out())).rejects.toThrow(/cannot open \(ENOENT\)/);
  });

  it('an output folder holding other files is not replaced; a previous import is', async () => {
    const gguf = path.join(dir, 'llama.f32.gguf');
    const target = path.join(dir, 'occupied');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'notes.txt'), 'mine');
    await expect(importGguf(gguf, target)).rejects.toThrow(/refusing to replace a folder that holds non-model files \(notes\.txt\)/);
    expect(fs.readdirSync(target)).toEqual(['notes.txt']);
    const again = path.join(dir, 'llama-imported');
    await importGguf(gguf, again);
    expect(fs.readdirSync(again).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.import-'))).toEqual([]);
  });
});
