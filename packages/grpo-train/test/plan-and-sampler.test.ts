import { describe, expect, it } from 'vitest';
import { GrpoSection, loadPipelineText } from '@ragrpo/config';
import { batchPlan, PromptSampler } from '../src/index.ts';

describe('batchPlan (TRL\'s batch options on one process)', () => {
  it('defaults to one generation per optimizer step', () => {
    // 8 completions a micro-batch x 2 accumulation steps = 16 per step; steps_per_generation defaults to 2: 16 per generation
    const p = batchPlan(GrpoSection.parse({ num_generations: 4, per_device_train_batch_size: 8, gradient_accumulation_steps: 2, num_train_epochs: 1 }), 10);
    expect(p).toMatchObject({ optimizerBatch: 16, generationBatch: 16, promptsPerGeneration: 4, stepsPerGeneration: 1, needsOldLogprobs: false });
    // 10 prompts / 4 per generation = 3 generations in the epoch, one step each
    expect(p.totalSteps).toBe(3);
  });

  it('feeds several steps from one generation, and num_iterations passes over it, with old log-probs', () => {
    const p = batchPlan(GrpoSection.parse({ num_generations: 4, per_device_train_batch_size: 4, steps_per_generation: 4, num_iterations: 2, num_train_epochs: 2 }), 8);
    // generation = 4 x 4 = 16 completions = 4 prompts; 4 steps of 4 completions, twice
    expect(p).toMatchObject({ generationBatch: 16, promptsPerGeneration: 4, stepsPerGeneration: 4, iterations: 2, needsOldLogprobs: true });
    expect(p.totalSteps).toBe(2 * 2 * 4 * 2); // 2 generations an epoch x 2 epochs x 4 steps x 2 iterations
    expect(batchPlan(GrpoSection.parse({ max_steps: 5 }), 100).totalSteps).toBe(5);
  });

  it('refuses a generation batch that does not hold whole groups', () => {
    expect(() => batchPlan(GrpoSection.parse({ num_generations: 3, per_device_train_batch_size: 8 }), 10)).toThrow(/must be a multiple of num_generations \(3\)/);
  });
});

describe('the grpo section', () => {
  const base = 'ingest:\n  documents: [{ kind: pdf, path: x.pdf }]\nembed:\n  sparse: {}\n';
  it('refuses a TRL option ragrpo does not implement, by name and at its line', () => {
    expect(() => loadPipelineText(`${base}grpo:\n  use_vllm: true\n`, 'p.yaml')).toThrow(/p\.yaml:6:\d+: grpo\.use_vllm: TRL's use_vllm: not implemented: ragrpo samples with its own engine/);
    expect(() => loadPipelineText(`${base}grpo:\n  scale_rewards: batch\n`, 'p.yaml')).toThrow(/grpo\.scale_rewards: TRL's scale_rewards: set it in the reward: section/);
  });
  it('has TRL\'s defaults', () => {
    expect(GrpoSection.parse({})).toMatchObject({ num_generations: 8, loss_type: 'dapo', beta: 0, epsilon: 0.2, num_iterations: 1, importance_sampling_level: 'token', top_entropy_quantile: 1, max_grad_norm: 1, lr_scheduler_type: 'linear', max_completion_length: 256 });
  });
});

describe('PromptSampler', () => {
  it('visits every prompt once per epoch, in a seeded order, and resumes from its state', () => {
    const a = new PromptSampler(5, 1);
    const first = a.next(5);
    expect([...first].sort()).toEqual([0, 1, 2, 3, 4]);
    const second = a.next(5);
    expect([...second].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(second).not.toEqual(first);
    expect(new PromptSampler(5, 1).next(10)).toEqual([...first, ...second]);
    const b = new PromptSampler(5, 1);
    b.next(3);
    const resumed = new PromptSampler(5, 1, { ...b.state });
    expect(resumed.next(7)).toEqual(b.next(7));
    expect(b.epochs).toBe(2);
  });
});
