import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpoSection } from '@ragrpo/config';
import { sampleCompletions } from '@ragrpo/generate';
import { buildScratchModel, loadModel, Policy, type LoadedModel } from '@ragrpo/model';
import type { NamedReward, RewardSpec } from '@ragrpo/reward';
import { RunState, trainGrpo, type GrpoRun, type TrainPrompt } from '../src/index.ts';

// Online GRPO on a tiny scratch model with a verifiable reward: the share of completion tokens whose
// id is below 150 (about half of a random model's tokens). GRPO must raise it.
const lowIds: NamedReward = { name: 'low_ids', fn: (b) => b.completionIds.map((ids) => (ids.length ? ids.filter((t) => t < 150).length / ids.length : 0)) };
const spec: RewardSpec = { reward_funcs: ['low_ids'], reward_weights: [1], options: {}, custom: {}, scale_rewards: 'group', multi_objective_aggregation: 'sum_then_normalize' };

let dir: string;
let model: LoadedModel;
let prompts: TrainPrompt[];
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'grpo-loop-'));
  const built = await buildScratchModel({
    out: path.join(dir, 'model'), arch: 'llama', layers: 1, hidden: 32, heads: 2, intermediate: 64, maxPositions: 128, seed: 3,
    corpus: ['Which wine is red? A red wine from Tuscany scored 92 points and costs 40 dollars. Bright acidity, green apple.'], vocabSize: 300, initStd: 0.1,
  });
  model = await loadModel(built.out);
  prompts = ['Which wine is red?', 'What does it cost?', 'How many points?', 'Bright acidity?'].map((q, i) => ({
    question_id: `q${i}`, question: q, reference: null, prompt: q, context: '', template: 'chat', split: 'train', prompt_ids: model.tokenizer!.encode(q),
  }));
}, 120_000);
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

function run(name: string, settings: object, extra: Partial<GrpoRun> = {}): GrpoRun {
  const g = GrpoSection.parse({ num_generations: 4, per_device_train_batch_size: 8, max_completion_length: 8, learning_rate: 0.01, lr_scheduler_type: 'constant', max_steps: 6, save_steps: 2, ...settings });
  return {
    settings: g, seed: 7, policy: new Policy({ config: model.config, weights: model.weights }, { trainable: 'full' }), tokenizer: model.tokenizer!,
    prompts, spec, rewards: [lowIds], specDigest: 'test', runState: new RunState(path.join(dir, name), { settings: g }), ...extra,
  };
}

async function meanReward(policy: Policy): Promise<number> {
  const groups = await sampleCompletions(policy, model.tokenizer!, prompts.map((p) => p.prompt_ids), {
    temperature: 1, top_p: 1, top_k: 0, min_p: 0, repetition_penalty: 1, max_completion_length: 8, stop: [], groupSize: 16, seed: 99,
  });
  const scores = lowIds.fn({ prompts: [], completions: [], completionIds: groups.flat().map((c) => c.ids), columns: { question_id: [], question: [], reference: [], context: [] } }) as number[];
  return scores.reduce((a, b) => a + b, 0) / scores.length;
}

describe('online GRPO', () => {
  it('raises a verifiable reward on the train prompts in 20 steps', async () => {
    const r = run('learn', { max_steps: 20, save_steps: 100 });
    const before = await meanReward(r.policy);
    const result = await trainGrpo(r);
    const after = await meanReward(r.policy);
    expect(result.trainer.step).toBe(20);
    expect(after).toBeGreaterThan(before + 0.15);
    const rewards = result.state.metrics.map((m) => m.reward!);
    expect(rewards.slice(-5).reduce((a, b) => a + b) / 5).toBeGreaterThan(rewards.slice(0, 5).reduce((a, b) => a + b) / 5);
    await r.policy.release();
  }, 300_000);

  it('logs TRL\'s metrics every step and every sampled completion', async () => {
    const r = run('metrics', {});
    const result = await trainGrpo(r);
    expect(result.state.metrics).toHaveLength(6);
    expect(result.state.metrics[0]).toMatchObject({ step: 1, 'completions/max_length': expect.any(Number), 'rewards/low_ids/mean': expect.any(Number), kl: null });
    expect(result.state.log).toHaveLength(6 * 8);
    expect(result.state.log[0]).toMatchObject({ step: 1, reward_spec_digest: 'test', reward_low_ids: expect.any(Number) });
    // beta 0: no reference model, so no reference log-probs are ever computed
    expect(r.policy.runs.logprobs).toBe(0);
    await r.policy.release();
  }, 300_000);

  it('with num_iterations 2 the second pass sees ratios away from 1', async () => {
    const r = run('iterations', { num_iterations: 2, max_steps: 4, learning_rate: 0.05, epsilon: 0.05 });
    const result = await trainGrpo(r);
    // steps 1, 3: first pass over a generation (ratio 1, nothing clipped); steps 2, 4: the second pass
    const region = result.state.metrics.map((m) => m['clip_ratio/region_mean']!);
    expect(region[0]).toBe(0);
    expect(Math.max(region[1], region[3])).toBeGreaterThan(0);
    await r.policy.release();
  }, 300_000);

  it('resumes exactly: an interrupted run continued from its checkpoint ends with the same weights', async () => {
    const straight = run('straight', {});
    await trainGrpo(straight);
    const expected = straight.policy.params;

    const interrupted = run('resumed', {}, { onStep: (row) => { if (row.step === 3) throw new Error('killed'); } });
    await expect(trainGrpo(interrupted)).rejects.toThrow('killed');
    await interrupted.policy.release();
    const resumed = run('resumed', {});
    let from = -1;
    await trainGrpo({ ...resumed, onResume: (_d, step) => { from = step; } });
    expect(from).toBe(2);
    for (const [k, w] of expected) expect(Buffer.from(resumed.policy.params.get(k)!.data.buffer).equals(Buffer.from(w.data.buffer)), k).toBe(true);
    await straight.policy.release();
    await resumed.policy.release();
  }, 300_000);

  it('refuses the checkpoint of a run with other settings', async () => {
    const a = run('other', {}, { onStep: (row) => { if (row.step === 3) throw new Error('killed'); } });
    await expect(trainGrpo(a)).rejects.toThrow('killed');
    const b = run('other', { learning_rate: 0.02 });
    await expect(trainGrpo(b)).rejects.toThrow(/holds a checkpoint of an interrupted run with other settings \(settings differ\)/);
    await a.policy.release();
    await b.policy.release();
  }, 300_000);

  it('stops on a non-finite loss or gradient naming the step and the last good checkpoint', async () => {
    const r = run('nan', { learning_rate: 1e12, max_steps: 8, max_grad_norm: 0 });
    await expect(trainGrpo(r)).rejects.toThrow(/step \d+: (loss|gradient norm) is (NaN|-?Infinity).*(last checkpoint kept at .*checkpoint-\d+|no checkpoint was saved yet)/);
    await r.policy.release();
  }, 300_000);
});
