import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpoSection } from '@ragrpo/config';
import { buildScratchModelSync, loadTokenizer, type ChatMessage, type Tokenizer } from '@ragrpo/model';
import { recoverMessages, trlConfig, trlDataset, type PromptRow } from '../src/index.ts';

const spec = { reward_funcs: ['token_f1', 'format'], reward_weights: [1, 0.25], scale_rewards: 'batch' as const, multi_objective_aggregation: 'sum_then_normalize' as const };

describe('the grpo: section as a GRPOConfig', () => {
  it('writes every option out under TRL\'s name, so TRL\'s own defaults never decide', () => {
    const { args, options, notExported } = trlConfig(GrpoSection.parse({}), spec, 42);
    expect(args).toMatchObject({
      num_generations: 8, temperature: 1, top_p: 1, top_k: 0, min_p: null, repetition_penalty: 1, max_completion_length: 256,
      generation_batch_size: null, steps_per_generation: null, loss_type: 'dapo', beta: 0, epsilon: 0.2, epsilon_high: 0.2, delta: null,
      importance_sampling_level: 'token', num_iterations: 1, mask_truncated_completions: false, top_entropy_quantile: 1,
      learning_rate: 1e-6, lr_scheduler_type: 'linear', warmup_steps: 0, max_grad_norm: 1, weight_decay: 0, adam_beta1: 0.9,
      adam_beta2: 0.999, adam_epsilon: 1e-8, gradient_accumulation_steps: 1, per_device_train_batch_size: 8, max_steps: -1,
      num_train_epochs: 3, seed: 42, save_steps: 500, save_total_limit: 2, logging_steps: 1,
      // TRL 1.x turns these on by default; ragrpo computes in float32 and recomputes only when asked
      gradient_checkpointing: false, bf16: false, fp16: false,
      // TRL 1.16 multiplies the KL term by the ratio by default; ragrpo's is the plain k3
      use_bias_correction_kl: false, entropy_coef: 0, off_policy_mask_threshold: null,
      reward_weights: [1, 0.25], scale_rewards: 'batch', multi_objective_aggregation: 'sum_then_normalize',
    });
    // every option of the section is accounted for, one row each
    const keys = Object.keys(GrpoSection.parse({ dynamic_sampling: {}, warmup_steps: 3, seed: 1, save_total_limit: 4, epsilon_high: 0.28 }));
    for (const k of keys) expect(options.map((o) => o.option), k).toContain(k);
    // ragrpo-only settings are listed as not exported, with the reason
    expect(notExported.map((n) => n.option)).toEqual(['dynamic_sampling', 'save_merged_model']);
    expect(notExported[0].reason).toMatch(/ragrpo only/);
    expect(args).not.toHaveProperty('dynamic_sampling');
    expect(args).not.toHaveProperty('resume_from_checkpoint');
  });

  it('converts where TRL\'s names or rules differ, and says so', () => {
    const g = GrpoSection.parse({ warmup_ratio: 0.1, recompute: true, min_p: 0.05, epsilon_high: 0.28, seed: 7, stop: ['\n\n'], dynamic_sampling: { max_attempts: 2 } });
    const { args, options, notExported } = trlConfig(g, spec, 42);
    expect(args).toMatchObject({ warmup_steps: 0.1, gradient_checkpointing: true, min_p: 0.05, epsilon_high: 0.28, seed: 7 });
    expect(options.find((o) => o.option === 'warmup_ratio')).toMatchObject({ trl: 'warmup_steps', trl_value: 0.1, note: expect.stringContaining('transformers 5') });
    expect(options.find((o) => o.option === 'recompute')).toMatchObject({ trl: 'gradient_checkpointing' });
    expect(notExported.map((n) => n.option)).toEqual(['stop', 'dynamic_sampling', 'save_merged_model']);
    expect(notExported[1].value).toEqual({ enabled: true, max_attempts: 2 });
    // warmup_steps wins over warmup_ratio (as ragrpo's loop has it); a ratio of 1 stays "every step"
    expect(trlConfig(GrpoSection.parse({ warmup_ratio: 0.5, warmup_steps: 3 }), spec, 1).args.warmup_steps).toBe(3);
    expect(trlConfig(GrpoSection.parse({ warmup_ratio: 1 }), spec, 1).args.warmup_steps).toBeLessThan(1);
  });
});

let tmp: string;
let tokenizer: Tokenizer;
beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ragrpo-export-trl-'));
  buildScratchModelSync({ out: path.join(tmp, 'chat'), arch: 'llama', seed: 0, layers: 1, hidden: 16, heads: 2, intermediate: 32, maxPositions: 64, vocabSize: 300, corpus: ['the wine costs 12 dollars', 'points: 90'] });
  tokenizer = await loadTokenizer(path.join(tmp, 'chat'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const row = (over: Partial<PromptRow>): PromptRow => ({
  question_id: 'q1', split: 'train', template: 'chat', is_main: true, question: 'How much?', reference: '12 dollars', prompt: '', context: '[1] The wine costs 12 dollars.', truncated: false, ...over,
});

describe('the train prompts as TRL\'s dataset', () => {
  it('recovers the chat messages a prompt was rendered from, and refuses text that is not one', () => {
    expect(tokenizer.hasChatTemplate).toBe(true);
    for (const messages of [
      [{ role: 'user', content: 'Context:\n[1] a <|im_start|> lookalike\n\nQuestion: How much?' }],
      [{ role: 'system', content: 'Answer from the context.' }, { role: 'user', content: 'Q?\n<|im_end|>\nstill the user' }],
    ] as ChatMessage[][]) {
      const text = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
      expect(recoverMessages(text, tokenizer)).toEqual(messages);
    }
    expect(recoverMessages('Below is an instruction. ### Response:', tokenizer)).toBeNull();
    // the generation prompt is part of the rendering: without it, the text is not what TRL would render
    expect(recoverMessages(tokenizer.applyChatTemplate([{ role: 'user', content: 'x' }], { addGenerationPrompt: false }), tokenizer)).toBeNull();
  });

  it('keeps the train split\'s main-template prompts, conversational, with the reward columns', () => {
    const chat = (u: string) => tokenizer.applyChatTemplate([{ role: 'user', content: u }], { addGenerationPrompt: true });
    const d = trlDataset([
      row({ prompt: chat('one') }),
      row({ question_id: 'q2', prompt: chat('two'), reference: null }),
      row({ question_id: 'q1', template: 'context_only', is_main: false, prompt: 'variant' }),
      row({ question_id: 'q3', split: 'test', prompt: chat('three') }),
    ], tokenizer);
    expect(d.conversational).toBe(true);
    expect(d.rows).toEqual([
      { prompt: [{ role: 'user', content: 'one' }], question_id: 'q1', question: 'How much?', reference: '12 dollars', context: '[1] The wine costs 12 dollars.' },
      { prompt: [{ role: 'user', content: 'two' }], question_id: 'q2', question: 'How much?', reference: null, context: '[1] The wine costs 12 dollars.' },
    ]);
  });

  it('falls back to plain text for the whole dataset when one prompt is not a whole conversation, saying which', () => {
    const chat = tokenizer.applyChatTemplate([{ role: 'user', content: 'one' }], { addGenerationPrompt: true });
    const d = trlDataset([row({ prompt: chat }), row({ question_id: 'q9', prompt: chat.slice(5), truncated: true })], tokenizer);
    expect(d.conversational).toBe(false);
    expect(d.rows.map((r) => r.prompt)).toEqual([chat, chat.slice(5)]);
    expect(d.plainReason).toContain('question q9');
    const plain = trlDataset([row({ prompt: 'plain' })], { hasChatTemplate: false, applyChatTemplate: () => { throw new Error('no template'); } });
    expect(plain).toMatchObject({ conversational: false, plainReason: null, rows: [{ prompt: 'plain' }] });
    expect(() => trlDataset([row({ split: 'test' })], tokenizer)).toThrow(/no train-split prompts/);
  });
});
