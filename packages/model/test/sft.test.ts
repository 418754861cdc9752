// Supervised fine-tuning on the graph engine: the loss falls on a small corpus, and micro-batching with
// gradient accumulation takes the same step as the whole batch at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../src/loading/load-model.ts';
import { createLora } from '../src/lora/lora.ts';
import { Policy } from '../src/policy/policy.ts';
import { Trainer, type SftExample } from '../src/training/trainer.ts';
import { relError, tempDir, tinyModel } from './tiny-models.ts';

let model: LoadedModel;
const policies: Policy[] = [];
const corpus = [
  'The wine was aged in oak barrels for two years.',
  'Acidity and tannin balance the sweetness of the grape.',
  'Store the bottles on their side in a cool cellar.',
  'A dry white pairs well with grilled fish and lemon.',
];
let examples: SftExample[];

beforeAll(async () => {
  model = await tinyModel('llama');
  const tok = model.tokenizer!;
  const bos = model.config.bosTokenId!;
  examples = corpus.map((text) => ({ promptIds: [bos], completionIds: tok.encode(text) }));
});
afterAll(async () => {
  for (const p of policies) await p.release();
});

describe('SFT', () => {
  it('30 full fine-tuning steps bring the loss below half its initial value', async () => {
    const policy = new Policy(model, { trainable: 'full' });
    policies.push(policy);
    const trainer = new Trainer(policy, { lr: 3e-3, microBatchSize: 2, maxGradNorm: 1, schedule: 'constant' });
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) losses.push((await trainer.sftStep(examples)).loss);
    // initial loss of a random model is about ln(vocab)
    expect(losses[0]).toBeGreaterThan(0.8 * Math.log(model.config.vocabSize));
    expect(losses[29]).toBeLessThan(0.5 * losses[0]);
    // the reported loss is the token-mean NLL: it agrees with scoring the corpus afterwards (before the last update it was losses[29])
    const lp = await policy.logprobs(examples);
    const tokens = lp.reduce((a, r) => a + r.length, 0);
    const nll = -lp.reduce((a, r) => a + r.reduce((x, y) => x + y, 0), 0) / tokens;
    expect(nll).toBeLessThan(losses[29]);
  });

  it('LoRA training lowers the loss and leaves the base weights untouched', async () => {
    const before = Float32Array.from(model.weights.get('model.layers.0.self_attn.q_proj.weight')!.data);
    const policy = new Policy(model, { lora: createLora(model.config, { r: 8, alpha: 16, targetModules: 'all-linear' }, 0) });
    policies.push(policy);
    // The frozen random LM head of a tiny model bounds how far an adapter alone can move the logits, so the
    // bar is a clear drop rather than halving.
    const trainer = new Trainer(policy, { lr: 1e-2, maxGradNorm: 1 });
    const first = (await trainer.sftStep(examples)).loss;
    let last = first;
    for (let i = 0; i < 14; i++) last = (await trainer.sftStep(examples)).loss;
    expect(last).toBeLessThan(0.9 * first);
    expect(Array.from(model.weights.get('model.layers.0.self_attn.q_proj.weight')!.data)).toEqual(Array.from(before));
  });

  it('gradient accumulation over micro-batches takes the same step as one full batch', async () => {
    const ragged = [...examples, { promptIds: [model.config.bosTokenId!, 40, 41], completionIds: [7, 8] }];
    const run = async (microBatchSize: number) => {
      const policy = new Policy(model, { lora: createLora(model.config, { r: 4, alpha: 8 }, 5) });
      policies.push(policy);
      // an SGD-like first AdamW step is sign(g)*lr, so compare with weight decay and clipping off, after 2 steps
      const trainer = new Trainer(policy, { lr: 1e-3, microBatchSize, maxGradNorm: 0 });
      const m1 = await trainer.sftStep(ragged);
      const m2 = await trainer.sftStep(ragged);
      return { policy, m1, m2 };
    };
    const whole = await run(5);
    const split = await run(2);
    expect(split.m1.microBatches).toBe(3);
    expect(whole.m1.microBatches).toBe(1);
    expect(split.m1.loss).toBeCloseTo(whole.m1.loss, 5);
    expect(split.m1.gradNorm).toBeCloseTo(whole.m1.gradNorm, 5);
    for (const [name, w] of whole.policy.params) expect(relError(split.policy.params.get(name)!.data, w.data)).toBeLessThan(1e-4);
  });

  it('recomputation in the backward pass takes the same step', async () => {
    const run = async (recompute: boolean) => {
      const policy = new Policy(model, { lora: createLora(model.config, { r: 4, alpha: 8, targetModules: 'all-linear' }, 6) });
      policies.push(policy);
      const trainer = new Trainer(policy, { lr: 1e-3, recompute });
      const m = [await trainer.sftStep(examples), await trainer.sftStep(examples)];
      return { policy, m };
    };
    const plain = await run(false);
    const remat = await run(true);
    expect(remat.m[1].loss).toBeCloseTo(plain.m[1].loss, 5);
    for (const [name, w] of plain.policy.params) expect(relError(remat.policy.params.get(name)!.data, w.data)).toBeLessThan(1e-5);
  });

  it('LoRA dropout masks are seeded: same seed, same step; dropout changes the step', async () => {
    const run = async (dropout: number, seed: number) => {
      const policy = new Policy(model, { lora: createLora(model.config, { r: 4, alpha: 8, dropout }, 7) });
      policies.push(policy);
      const trainer = new Trainer(policy, { lr: 1e-3, seed });
      await trainer.sftStep(examples);
      const m = await trainer.sftStep(examples);
      return { loss: m.loss, a: Array.from(policy.params.get('model.layers.0.self_attn.q_proj.lora_A.weight')!.data) };
    };
    const a = await run(0.3, 1);
    const b = await run(0.3, 1);
    const c = await run(0.3, 2);
    const none = await run(0, 1);
    expect(b).toEqual(a);
    expect(c.a).not.toEqual(a.a);
    expect(none.a).not.toEqual(a.a);
  });

  it('full fine-tuning checkpoints save and resume weights, optimizer state and step', async () => {
    const root = tempDir('full-ckpt');
    const mk = () => {
      const p = new Policy(model, { trainable: 'full' });
      policies.push(p);
      return p;
    };
    const straight = new Trainer(mk(), { lr: 1e-3 });
    for (let i = 0; i < 3; i++) await straight.sftStep(examples);
    const first = new Trainer(mk(), { lr: 1e-3, checkpointDir: root, saveEvery: 2 });
    await first.sftStep(examples);
    const m = await first.sftStep(examples);
    expect(m.checkpoint).toMatch(/checkpoint-2$/);
    const resumed = new Trainer(mk(), { lr: 1e-3 });
    await resumed.resume(root);
    expect(resumed.step).toBe(2);
    await resumed.sftStep(examples);
    for (const [name, w] of straight.policy.params) expect(Array.from(resumed.policy.params.get(name)!.data)).toEqual(Array.from(w.data));
  });

  it('runs in a worker thread with the same results', async () => {
    const inThread = new Policy(model);
    const worker = new Policy(model, { worker: true });
    policies.push(inThread, worker);
    const ids = [examples[0].completionIds.slice(0, 8)];
    const a = await inThread.forwardLogits(ids);
    const b = await worker.forwardLogits(ids);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
  });
});
