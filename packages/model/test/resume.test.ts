// Exact resume: a run saved after 2 GRPO steps and resumed by a fresh Trainer on a fresh Policy ends, after 2
// more steps, with an adapter byte-identical to 4 uninterrupted steps (parameters, AdamW moments and step,
// trainer step and token count, dropout masks, schedule, entropy mask all restored or re-derived).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../src/loading/load-model.ts';
import { createLora, saveLora } from '../src/lora/lora.ts';
import { Policy } from '../src/policy/policy.ts';
import { Trainer, type GrpoExample, type TrainerOptions } from '../src/training/trainer.ts';
import { tempDir, tinyModel } from './tiny-models.ts';

let model: LoadedModel;
const policies: Policy[] = [];
beforeAll(async () => {
  model = await tinyModel('llama', { initStd: 0.1 });
});
afterAll(async () => {
  for (const p of policies) await p.release();
});

const batch: GrpoExample[] = [
  { promptIds: [1, 40, 41], completionIds: [7, 8, 9, 10], advantage: 0.9 },
  { promptIds: [1, 5], completionIds: [300, 12, 5, 6, 7], advantage: -0.4 },
  { promptIds: [1, 99, 98, 97], completionIds: [11, 22], advantage: 1.3, truncated: true },
  { promptIds: [1], completionIds: [50, 60, 70], advantage: -1.1 },
];

describe('Trainer.save / resume', () => {
  it('2 steps + save + resume in a new Trainer + 2 steps = 4 straight steps, byte for byte', async () => {
    const opts = (): TrainerOptions => ({
      lr: 2e-2,
      schedule: 'cosine',
      warmupSteps: 1,
      totalSteps: 4,
      weightDecay: 0.01,
      microBatchSize: 2,
      seed: 3,
      temperature: 0.8,
      grpo: { lossType: 'dapo', beta: 0.04, topEntropyQuantile: 0.5, maskTruncatedCompletions: true, epsilonHigh: 0.28 },
    });
    const fresh = () => {
      const p = new Policy(model, { lora: createLora(model.config, { r: 4, alpha: 8, dropout: 0.1, targetModules: 'all-linear' }, 5) });
      policies.push(p);
      return p;
    };
    const adapterBytes = (p: Policy, name: string) => {
      const dir = tempDir(name);
      saveLora(dir, p.lora!);
      return fs.readFileSync(path.join(dir, 'adapter_model.safetensors'));
    };

    const straight = new Trainer(fresh(), opts());
    const straightMetrics = [];
    for (let i = 0; i < 4; i++) straightMetrics.push(await straight.grpoStep(batch));

    const first = new Trainer(fresh(), opts());
    await first.grpoStep(batch);
    await first.grpoStep(batch);
    const ckpt = await first.save(tempDir('resume-ckpt'));
    const resumed = new Trainer(fresh(), opts());
    await resumed.resume(path.dirname(ckpt));
    expect(resumed.step).toBe(2);
    expect(resumed.tokensSeen).toBe(first.tokensSeen);
    expect(resumed.optimizer.stepCount).toBe(2);
    const m3 = await resumed.grpoStep(batch);
    const m4 = await resumed.grpoStep(batch);
    expect([m3.loss, m4.loss]).toEqual([straightMetrics[2].loss, straightMetrics[3].loss]);
    expect(m4.numTokens).toBe(straightMetrics[3].numTokens);
    expect(m4.lr).toBe(straightMetrics[3].lr);
    expect(adapterBytes(resumed.policy, 'resumed').equals(adapterBytes(straight.policy, 'straight'))).toBe(true);
    // and the runs really trained: the adapter moved away from its initial B = 0
    expect(Math.max(...Array.from(straight.policy.params.get('model.layers.0.self_attn.q_proj.lora_B.weight')!.data, Math.abs))).toBeGreaterThan(0);
  });
});
