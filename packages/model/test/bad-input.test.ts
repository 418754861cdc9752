// Refusals with clear messages, and training that stops on a non-finite loss while keeping its checkpoint.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { latestCheckpoint } from '../src/training/checkpoint.ts';
import { loadModel } from '../src/loading/load-model.ts';
import { createLora } from '../src/lora/lora.ts';
import { Policy } from '../src/policy/policy.ts';
import { Trainer, TrainingError, type SftExample } from '../src/training/trainer.ts';
import { tempDir, tinyModel, tinyModelFolder } from './tiny-models.ts';

const policies: Policy[] = [];
afterAll(async () => {
  for (const p of policies) await p.release();
});
const track = (p: Policy) => (policies.push(p), p);

function copyFolder(src: string, name: string): string {
  const dst = tempDir(name);
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(dst, f));
  return dst;
}

function editConfig(folder: string, edit: (c: Record<string, unknown>) => void): void {
  const file = path.join(folder, 'config.json');
  const c = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(c);
  fs.writeFileSync(file, JSON.stringify(c));
}

describe('model loading refusals (validation in loadModel)', () => {
  it('refuses an unsupported architecture, listing the supported ones', async () => {
    const dir = copyFolder(tinyModelFolder('llama'), 'gpt2');
    editConfig(dir, (c) => {
      c.architectures = ['GPT2LMHeadModel'];
      c.model_type = 'gpt2';
    });
    await expect(loadModel(dir)).rejects.toThrow(/GPT2LMHeadModel.*not supported; supported: architectures LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM/);
  });

  it('refuses weights whose shapes disagree with config.json', async () => {
    const dir = copyFolder(tinyModelFolder('llama'), 'shape');
    editConfig(dir, (c) => {
      c.intermediate_size = 96;
    });
    await expect(loadModel(dir)).rejects.toThrow(/mlp\.\w+_proj\.weight": expected shape/);
  });

  it('refuses a config vocab_size that disagrees with the embedding table', async () => {
    const dir = copyFolder(tinyModelFolder('llama'), 'vocab');
    editConfig(dir, (c) => {
      c.vocab_size = 300;
    });
    await expect(loadModel(dir)).rejects.toThrow(/"model\.embed_tokens\.weight": expected shape \[300, 64\], found \[512, 64\]/);
  });
});

describe('sequence length refusals', () => {
  it('refuses a sequence longer than max_position_embeddings, in scoring and in training', async () => {
    const model = await tinyModel('llama', { maxPositions: 32 });
    const policy = track(new Policy(model, { lora: createLora(model.config, { r: 2 }) }));
    const long = Array.from({ length: 33 }, (_, i) => i + 1);
    await expect(policy.forwardLogits([long])).rejects.toThrow(/sequence length 33 exceeds max_position_embeddings 32/);
    const trainer = new Trainer(policy, { lr: 1e-3 });
    await expect(trainer.sftStep([{ promptIds: long.slice(0, 10), completionIds: long.slice(10) }])).rejects.toThrow(
      /sequence 0: sequence length 33 exceeds max_position_embeddings 32/,
    );
  });

  it('refuses token ids outside the vocabulary', async () => {
    const model = await tinyModel('llama');
    const policy = track(new Policy(model));
    await expect(policy.forwardLogits([[1, 2, model.config.vocabSize]])).rejects.toThrow(/token id 512 is outside the vocabulary \[0, 512\)/);
  });
});

describe('non-finite loss', () => {
  const data: SftExample[] = [
    { promptIds: [1, 2, 3], completionIds: [10, 11, 12, 13] },
    { promptIds: [4], completionIds: [20, 21] },
  ];

  it('stops naming the step, applies nothing, and keeps the last checkpoint, which resumes exactly', async () => {
    const model = await tinyModel('llama');
    const root = tempDir('ckpt');
    const make = () => track(new Policy(model, { lora: createLora(model.config, { r: 4, alpha: 8 }, 0) }));
    const opts = { lr: 1e-2, checkpointDir: root, saveEvery: 1, keepCheckpoints: 2 };

    // reference run: three clean steps
    const refPolicy = make();
    const ref = new Trainer(refPolicy, { ...opts, checkpointDir: tempDir('ckpt-ref') });
    for (let i = 0; i < 3; i++) await ref.sftStep(data);

    const policy = make();
    const trainer = new Trainer(policy, opts);
    await trainer.sftStep(data);
    await trainer.sftStep(data);
    expect(latestCheckpoint(root)).toBe(path.join(root, 'checkpoint-2'));
    // poison one trained value: the next loss is NaN
    const name = 'model.layers.1.self_attn.v_proj.lora_A.weight';
    const saved = Float32Array.from(policy.params.get(name)!.data);
    policy.params.get(name)!.data[0] = NaN;
    const err = await trainer.sftStep(data).catch((e) => e);
    expect(err).toBeInstanceOf(TrainingError);
    expect(err.message).toMatch(/^step 3: loss is NaN .*training stopped without applying the update; last checkpoint kept at .*checkpoint-2$/);
    expect(trainer.step).toBe(2);
    expect(fs.readdirSync(root).sort()).toEqual(['checkpoint-1', 'checkpoint-2']);

    // a fresh trainer resumes from the kept checkpoint and continues exactly like the clean run
    const resumedPolicy = make();
    const resumed = new Trainer(resumedPolicy, { ...opts, checkpointDir: tempDir('ckpt-2') });
    await resumed.resume(root);
    expect(resumed.step).toBe(2);
    expect(Array.from(resumedPolicy.params.get(name)!.data)).toEqual(Array.from(saved));
    const m = await resumed.sftStep(data);
    expect(m.step).toBe(3);
    for (const [k, w] of refPolicy.params) expect(Array.from(resumedPolicy.params.get(k)!.data)).toEqual(Array.from(w.data));
  });

  it('a non-finite advantage stops GRPO before running, naming the step', async () => {
    const model = await tinyModel('llama');
    const policy = track(new Policy(model, { lora: createLora(model.config, { r: 2 }) }));
    const trainer = new Trainer(policy, { lr: 1e-3 });
    await expect(trainer.grpoStep([{ ...data[0], advantage: Infinity }])).rejects.toThrow(/^step 1: example 0 has a non-finite advantage/);
  });
});
