import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerateSection } from '@ragrpo/config';
import { tableRows } from '@ragrpo/contracts';
import { buildScratchModel, loadModel, Policy, sample, type Tokenizer } from '@ragrpo/model';
import { generateGroups, planGroup, splitReasoning, type PromptRow } from '../src/index.ts';

describe('splitReasoning', () => {
  it('splits a <think> block from the answer as seed 003\'s reasoning models return it', () => {
    expect(splitReasoning('<think>The context says 92.</think>\n92 points.')).toEqual({ reasoning: 'The context says 92.', answer: '92 points.' });
    expect(splitReasoning('92 points.')).toEqual({ reasoning: null, answer: '92 points.' });
    // the template opened the block in the prompt (DeepSeek-R1's does): only the closing tag is generated
    expect(splitReasoning('weighing it up</think>Paris')).toEqual({ reasoning: 'weighing it up', answer: 'Paris' });
    // cut off while thinking: no answer yet
    expect(splitReasoning('<think>still going')).toEqual({ reasoning: 'still going', answer: '' });
  });
});

describe('planGroup', () => {
  it('orders a group as seed 000 builds it: greedy reference, temperatures, templates, samples', () => {
    const s = GenerateSection.parse({ num_generations: 3, temperatures: [0.5, 1.3], samples_per_temperature: 2, template_variants: ['context_only'] });
    expect(planGroup(s, 'chat', ['chat', 'context_only'])).toEqual([
      { variant: 'greedy', template: 'chat', temperature: 0, count: 1 },
      { variant: 'temperature=0.5', template: 'chat', temperature: 0.5, count: 2 },
      { variant: 'temperature=1.3', template: 'chat', temperature: 1.3, count: 2 },
      { variant: 'template=context_only', template: 'context_only', temperature: 1, count: 1 },
      { variant: 'sample', template: 'chat', temperature: 1, count: 3 },
    ]);
    expect(() => planGroup(GenerateSection.parse({ template_variants: ['alpaca'] }), 'chat', ['chat']))
      .toThrow(/'alpaca' is not a template of the prompts stage \(it has chat\); add it to prompts.alternatives/);
  });

  it('refuses a group of one: it has no relative advantage', () => {
    const r = GenerateSection.safeParse({ num_generations: 1 });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/at least 2/);
  });
});

describe('generateGroups on a scratch model', () => {
  let dir: string;
  let policy: Policy;
  let tokenizer: Tokenizer;
  let prompts: PromptRow[];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'generate-test-'));
    const built = await buildScratchModel({
      out: path.join(dir, 'model'), arch: 'llama', layers: 1, hidden: 32, heads: 2, intermediate: 64, maxPositions: 256, seed: 1,
      corpus: ['Which wine is red? A red wine from Tuscany scored 92 points and costs 40 dollars.'], vocabSize: 320, initStd: 0.2,
    });
    const model = await loadModel(built.out);
    tokenizer = model.tokenizer!;
    policy = new Policy({ config: model.config, weights: model.weights });
    const ids = (t: string) => tokenizer.encode(t);
    prompts = ['q1', 'q2', 'q3'].flatMap((q, i) => [
      { question_id: q, split: i === 2 ? 'test' : 'train', template: 'chat', is_main: true, prompt_ids: ids(`Which wine is red ${i}?`) },
      { question_id: q, split: i === 2 ? 'test' : 'train', template: 'context_only', is_main: false, prompt_ids: ids(`Answer from the context ${i}.`) },
    ]);
  }, 120_000);
  afterAll(async () => { await policy.release(); await rm(dir, { recursive: true, force: true }); });

  const settings = GenerateSection.parse({
    num_generations: 3, max_completion_length: 6, temperatures: [0.7], template_variants: ['context_only'], prompts_per_batch: 2, stop: [],
  });

  it('samples every question\'s whole group, reproducibly from the seed', async () => {
    const a = await generateGroups(prompts, policy, tokenizer, settings, { seed: 5, maxSeqLength: 256 });
    const rows = tableRows<{ question_id: string; group_index: number; variant: string; completion: string; answer: string; completion_ids: Int32Array; logprobs: Float32Array; completion_tokens: number; finish_reason: string }>(a.table);
    // 1 greedy + 1 at 0.7 + 1 under context_only + 3 samples
    expect(rows).toHaveLength(3 * 6);
    expect(rows.filter((r) => r.question_id === 'q2').map((r) => `${r.group_index}:${r.variant}`))
      .toEqual(['0:greedy', '1:temperature=0.7', '2:template=context_only', '3:sample', '4:sample', '5:sample']);
    for (const r of rows) {
      expect(r.logprobs).toHaveLength(r.completion_tokens);
      expect(r.completion_ids).toHaveLength(r.completion_tokens);
      expect(r.completion).toBe(tokenizer.decode(Array.from(r.completion_ids), { skipSpecialTokens: true }));
      expect(['eos', 'stop', 'length']).toContain(r.finish_reason);
    }
    expect(a.stats).toMatchObject({ questions: 3, completions: 18 });
    const b = await generateGroups(prompts, policy, tokenizer, settings, { seed: 5, maxSeqLength: 256 });
    expect(tableRows(b.table)).toEqual(tableRows(a.table));
    const c = await generateGroups(prompts, policy, tokenizer, settings, { seed: 6, maxSeqLength: 256 });
    expect(tableRows(c.table).map((r) => r.completion)).not.toEqual(rows.map((r) => r.completion));
  });

  it('its greedy member is the engine\'s greedy decode of the main prompt', async () => {
    const { table } = await generateGroups(prompts, policy, tokenizer, { ...settings, splits: ['test'] }, { seed: 0, maxSeqLength: 256 });
    const greedy = tableRows<{ question_id: string; variant: string; completion_ids: Int32Array }>(table).find((r) => r.variant === 'greedy')!;
    expect(greedy.question_id).toBe('q3');
    const [[direct]] = await sample(policy, [Array.from(prompts[4].prompt_ids)], { maxNewTokens: 6, temperature: 0, eosTokenIds: policy.config.eosTokenIds });
    expect(Array.from(greedy.completion_ids)).toEqual(direct.tokens.slice(0, greedy.completion_ids.length));
  });

  it('says which settings to lower when a prompt and its completion do not fit', async () => {
    await expect(generateGroups(prompts, policy, tokenizer, { ...settings, max_completion_length: 250 }, { seed: 0, maxSeqLength: 256 }))
      .rejects.toThrow(/generate.max_completion_length 250 \+ the longest prompt/);
  });
});
