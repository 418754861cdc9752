import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Completions, Prompts, Rewards, readTable, tableRows } from '@ragrpo/contracts';
import { expectOneError, root, runStage } from './stage-cli.ts';

// The first half of the learning pipeline through the real stage commands: policy (scratch),
// prompts, generate and reward on a small wine pipeline; then every bad input of the issue, each
// failing with one line, a non-zero exit and no stage (or temp) folder left behind.
const wine = path.resolve(root, '..', 'shared', 'datasets', 'wine-reviews', 'winemag-data-130k-v2.sample.csv');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ragrpo-learning-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const base = {
  head: `seed: 11
ingest:
  documents:
    - kind: csv
      path: ${JSON.stringify(wine)}
      template: "{title} ({variety}). {description} Points: {points}. Price: {price}."
      limit: 300
  questions:
    path: datasets/wine-questions.jsonl
    id_field: id
    reference_field: reference
    gold_field: gold_chunk_ids
    limit: 6
    test_fraction: 0.5
  povs:
    items: [Good value for money, Oak and vanilla]
embed:
  sparse: {}
index:
  top_k: 4
rank:
  top_n: 3
  heatmap: { max_questions: 0 }
`,
  policy: `policy:
  scratch: { vocab_size: 400, num_hidden_layers: 1, hidden_size: 32, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 512 }
  max_seq_length: 512
`,
  prompts: `prompts:
  template: chat
  alternatives: [context_only]
  max_prompt_length: 400
`,
  generate: `generate:
  num_generations: 3
  max_completion_length: 8
  temperatures: [0.5]
  template_variants: [context_only]
`,
  reward: `reward:
  reward_funcs: [token_f1, contains_reference, format]
  reward_weights: [1.0, 0.5, 0.1]
`,
};
const yaml = (over: Partial<typeof base> = {}) => Object.values({ ...base, ...over }).join('');

const stage = runStage;

const good = { pipeline: path.join(tmp, 'good', 'learn.yaml'), artifacts: path.join(tmp, 'good', 'artifacts') };
const out = (s: string, artifacts = good.artifacts) => path.join(artifacts, 'learn', s);

/** A case: its own copy of the good run's artifacts and a pipeline file of the same name. */
function setup(name: string, text: string) {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const pipeline = path.join(dir, 'learn.yaml');
  writeFileSync(pipeline, text);
  const artifacts = path.join(dir, 'artifacts');
  cpSync(good.artifacts, artifacts, { recursive: true });
  return { dir, pipeline, artifacts };
}

/** The failed stage and everything downstream of it are gone (they would look current), and no temp folder is left. */
function expectNoOutput(artifacts: string, stages: string[]): void {
  for (const s of stages) expect(existsSync(out(s, artifacts)), s).toBe(false);
  expect(readdirSync(path.join(artifacts, 'learn')).filter((f) => f.includes('.tmp-'))).toEqual([]);
}

describe.skipIf(!existsSync(wine))('policy, prompts, generate and reward through their commands', () => {
  beforeAll(() => {
    mkdirSync(path.dirname(good.pipeline), { recursive: true });
    writeFileSync(good.pipeline, yaml());
    for (const s of ['ingest', 'embed', 'index', 'rank', 'policy', 'prompts', 'generate', 'reward']) {
      const r = stage(s, good.pipeline, good.artifacts);
      if (r.status !== 0) throw new Error(`${s} failed: ${r.stderr}`);
    }
  }, 300_000);

  it('writes the policy record, one prompt per question and template, whole groups, and a reward per completion', async () => {
    const record = JSON.parse(readFileSync(path.join(out('policy'), 'policy.json'), 'utf8'));
    expect(record).toMatchObject({ format: 'ragrpo.policy', source: 'scratch', location: { base: 'artifact', path: 'model' }, has_chat_template: true, max_seq_length: 512 });
    expect(existsSync(path.join(out('policy'), 'model', 'model.safetensors'))).toBe(true);
    const prompts = tableRows<{ question_id: string; template: string; prompt_tokens: number }>(await readTable(path.join(out('prompts'), 'prompts.arrow'), Prompts));
    expect(prompts).toHaveLength(6 * 2);
    expect(Math.max(...prompts.map((p) => p.prompt_tokens))).toBeLessThanOrEqual(400);
    const completions = tableRows<{ question_id: string; variant: string }>(await readTable(path.join(out('generate'), 'completions.arrow'), Completions));
    // greedy + 1 at 0.5 + 1 under context_only + 3 samples, for each of the 6 questions
    expect(completions).toHaveLength(6 * 6);
    const rewards = await readTable(path.join(out('reward'), 'rewards.arrow'), Rewards);
    expect(rewards.numRows).toBe(36);
    expect(rewards.schema.fields.map((f) => f.name)).toEqual(
      ['question_id', 'group_index', 'variant', 'reward_token_f1', 'reward_contains_reference', 'reward_format', 'total', 'advantage'],
    );
    const summary = JSON.parse(readFileSync(path.join(out('reward'), 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ completions: 36, groups: 6, group_size: 6 });
    expect(Object.keys(summary.rewards)).toEqual(['token_f1', 'contains_reference', 'format']);
    const spec = JSON.parse(readFileSync(path.join(out('reward'), 'reward_spec.json'), 'utf8'));
    expect(spec).toMatchObject({ reward_funcs: ['token_f1', 'contains_reference', 'format'], reward_weights: [1, 0.5, 0.1], scale_rewards: 'group' });
  });

  it('an unknown reward name lists the known ones', () => {
    const c = setup('unknown-reward', yaml({ reward: 'reward:\n  reward_funcs: [token_f2]\n' }));
    const line = expectOneError(stage('reward', c.pipeline, c.artifacts), 'reward');
    expect(line).toContain("unknown reward 'token_f2'");
    expect(line).toContain('token_f1, contains_reference');
    expectNoOutput(c.artifacts, ['reward']);
    expect(existsSync(out('generate', c.artifacts))).toBe(true);
  });

  it('a weight count that does not match the rewards points at reward_weights', () => {
    const text = yaml({ reward: 'reward:\n  reward_funcs: [token_f1, format]\n  reward_weights: [1.0]\n' });
    const c = setup('weights', text);
    const line = expectOneError(stage('reward', c.pipeline, c.artifacts), 'reward');
    expect(line).toContain(`${c.pipeline}:${text.split('\n').indexOf('  reward_weights: [1.0]') + 1}:`);
    expect(line).toContain('reward.reward_weights: needs one weight per entry of reward_funcs');
    expectNoOutput(c.artifacts, ['reward']);
  });

  it('a user reward module that does not exist, or exports nothing callable, is named', () => {
    const missing = path.join(tmp, 'no-such-reward.ts');
    const c = setup('no-module', yaml({ reward: `reward:\n  reward_funcs: [mine]\n  custom:\n    mine: { module: ${JSON.stringify(missing)} }\n` }));
    expect(expectOneError(stage('reward', c.pipeline, c.artifacts), 'reward')).toContain(`${missing}: no such reward module`);
    const notCallable = path.join(tmp, 'not-callable.ts');
    writeFileSync(notCallable, 'export const weight = 3;\n');
    const d = setup('not-callable', yaml({ reward: `reward:\n  reward_funcs: [mine]\n  custom:\n    mine: { module: ${JSON.stringify(notCallable)} }\n` }));
    expect(expectOneError(stage('reward', d.pipeline, d.artifacts), 'reward')).toContain(`${notCallable}: export 'default' is not a reward function (it exports no function)`);
    expectNoOutput(d.artifacts, ['reward']);
  });

  it('a reward that throws names the reward and the question', () => {
    const thrower = path.join(tmp, 'thrower.ts');
    writeFileSync(thrower, "export default function (batch: { completions: string[] }) { throw new Error('no scores today'); }\n");
    const c = setup('thrower', yaml({ reward: `reward:\n  reward_funcs: [flaky]\n  custom:\n    flaky: { module: ${JSON.stringify(thrower)} }\n` }));
    const line = expectOneError(stage('reward', c.pipeline, c.artifacts), 'reward');
    expect(line).toMatch(/reward 'flaky' failed on the batch of question wine-q\d+: no scores today/);
    expectNoOutput(c.artifacts, ['reward']);
  });

  it('a missing judge model folder is named', () => {
    const model = path.join(tmp, 'no-judge');
    const c = setup('judge', yaml({ reward: `reward:\n  reward_funcs: [judge]\n  options:\n    judge: { model: ${JSON.stringify(model)} }\n` }));
    const line = expectOneError(stage('reward', c.pipeline, c.artifacts), 'reward');
    expect(line).toContain('reward.options.judge.model');
    expect(line).toContain(model);
    expectNoOutput(c.artifacts, ['reward']);
  });

  it('a template file without {question} is refused, and prompts\' downstream results go with it', () => {
    const file = path.join(tmp, 'bad-template.txt');
    writeFileSync(file, 'Context: {context}\nAnswer:');
    const c = setup('template', yaml({ prompts: `prompts:\n  template: { file: ${JSON.stringify(file)} }\n` }));
    expect(expectOneError(stage('prompts', c.pipeline, c.artifacts), 'prompts')).toContain(`${file}: the template has no {question} placeholder`);
    expectNoOutput(c.artifacts, ['prompts', 'generate', 'reward']);
    expect(existsSync(out('rank', c.artifacts))).toBe(true);
  });

  it('the chat template asked of a tokenizer without one says what to use', () => {
    const model = path.join(tmp, 'no-chat-model');
    cpSync(path.join(out('policy'), 'model'), model, { recursive: true });
    const cfgFile = path.join(model, 'tokenizer_config.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8'));
    delete cfg.chat_template;
    writeFileSync(cfgFile, JSON.stringify(cfg));
    const c = setup('no-chat', yaml({ policy: `policy:\n  model: ${JSON.stringify(model)}\n  max_seq_length: 512\n` }));
    expect(stage('policy', c.pipeline, c.artifacts).status).toBe(0);
    const line = expectOneError(stage('prompts', c.pipeline, c.artifacts), 'prompts');
    expect(line).toContain(`${model}: the tokenizer has no chat template, which prompts.template 'chat' needs`);
  });

  it('num_generations below 2 is refused where it is written', () => {
    const text = yaml({ generate: 'generate:\n  num_generations: 1\n' });
    const c = setup('group-of-one', text);
    const line = expectOneError(stage('generate', c.pipeline, c.artifacts), 'generate');
    expect(line).toContain(`${c.pipeline}:${text.split('\n').indexOf('  num_generations: 1') + 1}:`);
    expect(line).toContain('generate.num_generations: must be at least 2');
    expectNoOutput(c.artifacts, ['generate', 'reward']);
  });

  it('an offline hub id that is not under models_dir says what to set', () => {
    const c = setup('offline', yaml({ policy: 'policy:\n  model: HuggingFaceTB/SmolLM2-135M-Instruct\n  models_dir: models\n' }));
    const line = expectOneError(stage('policy', c.pipeline, c.artifacts), 'policy');
    expect(line).toContain("policy.model: 'HuggingFaceTB/SmolLM2-135M-Instruct' is not a local folder");
    expect(line).toContain('set policy.allow_remote: true');
    expectNoOutput(c.artifacts, ['policy', 'prompts', 'generate', 'reward']);
  });
});
