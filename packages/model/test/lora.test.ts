// LoRA adapters: a fresh adapter (B = 0) leaves the model unchanged, a saved PEFT adapter reloads to identical
// logits, and merging the adapter into the base weights reproduces the adapted model.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportModel } from '../src/loading/export-model.ts';
import { loadModel } from '../src/loading/load-model.ts';
import { createLora, loadLora, mergeLora, saveLora, type LoraAdapter } from '../src/lora/lora.ts';
import type { LoadedModel } from '../src/loading/load-model.ts';
import { Policy } from '../src/policy/policy.ts';
import { Prng } from '../src/prng.ts';
import { readSafetensors } from '../src/loading/safetensors.ts';
import { relError, tempDir, tinyModel, tinyModelFolder } from './tiny-models.ts';

let model: LoadedModel;
const policies: Policy[] = [];
const make = (m: { config: LoadedModel['config']; weights: LoadedModel['weights'] }, lora?: LoraAdapter) => {
  const p = new Policy(m, { lora, trainable: 'none' });
  policies.push(p);
  return p;
};
const input = [
  [4, 99, 230, 17, 8, 301, 44, 2, 150, 66],
  [12, 7, 7, 400, 31, 5, 90, 222, 18, 3],
];

beforeAll(async () => {
  model = await tinyModel('qwen2', { initStd: 0.1 });
});
afterAll(async () => {
  for (const p of policies) await p.release();
});

/** An adapter with non-zero B so it actually changes the model. */
function trainedLookingAdapter(seed: number): LoraAdapter {
  const a = createLora(model.config, { r: 4, alpha: 8, targetModules: 'all-linear' }, seed);
  const rng = new Prng(seed + 100);
  for (const [name, w] of a.weights) if (name.endsWith('lora_B.weight')) for (let i = 0; i < w.data.length; i++) w.data[i] = rng.uniform(-0.2, 0.2);
  return a;
}

describe('LoRA', () => {
  it('with B = 0 gives exactly the base logits', async () => {
    const base = await make(model).forwardLogits(input);
    const fresh = createLora(model.config, { r: 8, alpha: 16, targetModules: 'all-linear' }, 1);
    const adapted = await make(model, fresh).forwardLogits(input);
    expect(relError(adapted.data, base.data)).toBeLessThan(1e-6);
    // A is initialised (non-zero), so the zero comes from B as PEFT does it
    const a = fresh.weights.get('model.layers.0.self_attn.q_proj.lora_A.weight')!;
    expect(a.data.some((x) => x !== 0)).toBe(true);
  });

  it('saves a PEFT adapter folder that reloads to identical logits', async () => {
    const adapter = trainedLookingAdapter(2);
    const before = await make(model, adapter).forwardLogits(input);
    const base = await make(model).forwardLogits(input);
    expect(relError(before.data, base.data)).toBeGreaterThan(1e-3); // the adapter matters

    const dir = tempDir('adapter');
    saveLora(dir, adapter, { baseModel: 'tiny-qwen2' });
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
    expect(cfg).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, task_type: 'CAUSAL_LM' });
    const keys = [...readSafetensors(path.join(dir, 'adapter_model.safetensors')).keys()];
    expect(keys).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(keys).toContain('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight');

    const reloaded = loadLora(dir, model.config);
    const after = await make(model, reloaded).forwardLogits(input);
    expect(Array.from(after.data)).toEqual(Array.from(before.data));
  });

  it('merged into the base weights gives the adapter model logits', async () => {
    const adapter = trainedLookingAdapter(3);
    const adapted = await make(model, adapter).forwardLogits(input);
    const merged = await make({ config: model.config, weights: mergeLora(model.config, model.weights, adapter) }).forwardLogits(input);
    expect(relError(merged.data, adapted.data)).toBeLessThan(1e-5);
  });

  it('exports the merged model as a Hugging Face folder that loads back to the adapter model logits', async () => {
    const adapter = trainedLookingAdapter(5);
    const policy = make(model, adapter);
    const adapted = await policy.forwardLogits(input);
    const dir = tempDir('export');
    exportModel(dir, policy, tinyModelFolder('qwen2', { initStd: 0.1 }));
    const reloaded = await loadModel(dir);
    expect(reloaded.tokenizer).not.toBeNull();
    const logits = await make(reloaded).forwardLogits(input);
    expect(relError(logits.data, adapted.data)).toBeLessThan(1e-5);
  });

  it('refuses an adapter whose shapes do not fit the model', async () => {
    const dir = tempDir('bad-adapter');
    saveLora(dir, trainedLookingAdapter(4));
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ ...cfg, r: 8 }));
    expect(() => loadLora(dir, model.config)).toThrow(/lora_A\.weight has shape \[4, 64\], the model needs \[8, 64\]/);
  });

  it('refuses an unknown target module, listing the supported ones', () => {
    expect(() => createLora(model.config, { targetModules: ['qkv_proj'] })).toThrow(/"qkv_proj" is not supported; choose from q_proj, k_proj/);
  });
});
