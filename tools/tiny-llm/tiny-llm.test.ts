// The tiny-llm builder: deterministic output, per-architecture presets that @ragrpo/model loads, dtypes, CLI.
// (The PyTorch oracle these models are checked against is tested in packages/model/test/reference-oracle.test.ts.)
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bf16BitsToNumber, numberToBf16Bits, readModelFolder, readSafetensors, type ModelConfig } from '@ragrpo/model';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTinyModel, TINY_ARCHS, type TinyArch } from './build.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tiny-llm-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'];
const read = (dir: string, f: string): Buffer => fs.readFileSync(path.join(dir, f));

describe('tiny-llm build', () => {
  it('is deterministic: same seed gives identical bytes, another seed other weights but the same tokenizer', () => {
    const a = buildTinyModel({ arch: 'llama', out: path.join(tmp, 'a'), seed: 0 }).out;
    const b = buildTinyModel({ arch: 'llama', out: path.join(tmp, 'b'), seed: 0 }).out;
    const c = buildTinyModel({ arch: 'llama', out: path.join(tmp, 'c'), seed: 1 }).out;
    for (const f of FILES) expect(read(a, f).equals(read(b, f)), f).toBe(true);
    expect(read(a, 'model.safetensors').equals(read(c, 'model.safetensors'))).toBe(false);
    expect(read(a, 'tokenizer.json').equals(read(c, 'tokenizer.json'))).toBe(true);
    const wa = readSafetensors(path.join(a, 'model.safetensors')).get('model.layers.0.mlp.up_proj.weight')!.data as Float32Array;
    const wc = readSafetensors(path.join(c, 'model.safetensors')).get('model.layers.0.mlp.up_proj.weight')!.data as Float32Array;
    // independent N(0, 0.02) draws: sample std near 0.02, and the two seeds uncorrelated
    const std = Math.sqrt(wa.reduce((s, x) => s + x * x, 0) / wa.length);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    let dot = 0;
    for (let i = 0; i < wa.length; i++) dot += wa[i]! * wc[i]!;
    expect(Math.abs(dot / wa.length / (std * std))).toBeLessThan(0.1);
  });

  const expectations: Record<TinyArch, (c: ModelConfig) => void> = {
    llama: (c) => expect(c).toMatchObject({ architecture: 'LlamaForCausalLM', numKvHeads: 4, tieWordEmbeddings: false, ropeScaling: null }),
    llama3: (c) => expect(c).toMatchObject({ architecture: 'LlamaForCausalLM', numKvHeads: 2, ropeTheta: 500000, ropeScaling: { type: 'llama3', factor: 8 } }),
    qwen2: (c) => expect(c).toMatchObject({ architecture: 'Qwen2ForCausalLM', numKvHeads: 2, attentionBias: true, tieWordEmbeddings: true, vocabSize: 544 }),
    mistral: (c) => expect(c).toMatchObject({ architecture: 'MistralForCausalLM', numKvHeads: 2, slidingWindow: 64 }),
    smollm: (c) => expect(c).toMatchObject({ architecture: 'LlamaForCausalLM', numKvHeads: 1, tieWordEmbeddings: true }),
  };
  for (const arch of TINY_ARCHS) {
    it(`${arch}: the folder loads and validates, and exercises its architecture features`, async () => {
      const out = buildTinyModel({ arch, out: path.join(tmp, `tiny-${arch}`), seed: 0 }).out;
      const m = await readModelFolder(out);
      expectations[arch](m.config);
      expect(m.tokenizer!.vocabSize).toBe(512);
      expect(m.generation.eosTokenIds).toEqual([m.tokenizer!.eosTokenId, m.tokenizer!.padTokenId]);
      expect(m.weights.has('lm_head.weight')).toBe(!m.config.tieWordEmbeddings);
      expect(m.weights.has('model.layers.1.self_attn.k_proj.bias')).toBe(arch === 'qwen2');
    });
  }

  it('--dtype BF16 stores the bf16-rounded values of the F32 build', () => {
    const f32 = readSafetensors(path.join(buildTinyModel({ arch: 'qwen2', out: path.join(tmp, 'q32'), seed: 5 }).out, 'model.safetensors'));
    const bf = readSafetensors(path.join(buildTinyModel({ arch: 'qwen2', out: path.join(tmp, 'q16'), seed: 5, dtype: 'BF16' }).out, 'model.safetensors'));
    expect(JSON.parse(fs.readFileSync(path.join(tmp, 'q16', 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
    for (const [name, t] of f32) {
      const b = bf.get(name)!;
      expect(b.dtype).toBe('BF16');
      const want = Float32Array.from(t.data as Float32Array, (x) => bf16BitsToNumber(numberToBf16Bits(x)));
      expect(b.data).toEqual(want);
    }
  });

  it('CLI writes a model and rejects an unknown arch with the choices', () => {
    const out = path.join(tmp, 'cli-smollm');
    const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
    const log = execFileSync(tsx, ['tools/tiny-llm/build.ts', '--arch', 'smollm', '--out', out, '--seed', '3', '--layers', '1'], { cwd: repoRoot, encoding: 'utf8' });
    expect(log).toMatch(/LlamaForCausalLM, 1 layers/);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).num_hidden_layers).toBe(1);
    const bad = spawnSync(tsx, ['tools/tiny-llm/build.ts', '--arch', 'gpt2', '--out', out], { cwd: repoRoot, encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/llama, llama3, qwen2, mistral, smollm/);
  });

  it('CLI flags give the same files as the library call (the model tests build through the CLI)', () => {
    const cli = path.join(tmp, 'cli-mistral');
    const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
    const flags = ['--seed', '2', '--sliding-window', '4', '--init-std', '0.15', '--kv-heads', '1', '--max-positions', '64', '--dtype', 'BF16'];
    execFileSync(tsx, ['tools/tiny-llm/build.ts', '--arch', 'mistral', '--out', cli, ...flags], { cwd: repoRoot, encoding: 'utf8' });
    const lib = buildTinyModel({ arch: 'mistral', out: path.join(tmp, 'lib-mistral'), seed: 2, slidingWindow: 4, initStd: 0.15, kvHeads: 1, maxPositions: 64, dtype: 'BF16' }).out;
    for (const f of FILES) expect(read(cli, f).equals(read(lib, f)), f).toBe(true);
    expect(JSON.parse(read(cli, 'config.json').toString())).toMatchObject({ sliding_window: 4, num_key_value_heads: 1, max_position_embeddings: 64 });
    const bad = spawnSync(tsx, ['tools/tiny-llm/build.ts', '--arch', 'llama', '--out', cli, '--init-std', '0'], { cwd: repoRoot, encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--init-std must be a positive number, got "0"/);
  });
});
