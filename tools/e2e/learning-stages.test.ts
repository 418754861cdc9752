import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Completions, CompletionsLog, GrpoMetrics, Prompts, Rewards, readTable, tableRows } from '@ragrpo/contracts';
import { copyCase, expectOneError, root, runStage } from './stage-cli.ts';

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
  grpo: `grpo:
  num_generations: 2
  per_device_train_batch_size: 4
  max_completion_length: 6
  learning_rate: 0.001
  max_steps: 6
  save_steps: 2
  beta: 0.04
`,
  evaluate: `evaluate:
  primary_reward: token_f1
  max_completion_length: 6
  bootstrap_resamples: 500
`,
};
const yaml = (over: Partial<typeof base> = {}) => Object.values({ ...base, ...over }).join('');

const stage = runStage;

const good = { pipeline: path.join(tmp, 'good', 'learn.yaml'), artifacts: path.join(tmp, 'good', 'artifacts') };
const out = (s: string, artifacts = good.artifacts) => path.join(artifacts, 'learn', s);

const setup = (name: string, text: string) => copyCase(tmp, name, 'learn.yaml', text, good.artifacts);

/** The failed stage and everything downstream of it are gone (they would look current), and no temp folder is left. */
function expectNoOutput(artifacts: string, stages: string[]): void {
  for (const s of stages) expect(existsSync(out(s, artifacts)), s).toBe(false);
  expect(readdirSync(path.join(artifacts, 'learn')).filter((f) => f.includes('.tmp-'))).toEqual([]);
}

describe.skipIf(!existsSync(wine))('policy, prompts, generate, reward and grpo-train through their commands', () => {
  beforeAll(() => {
    mkdirSync(path.dirname(good.pipeline), { recursive: true });
    writeFileSync(good.pipeline, yaml());
    for (const s of ['ingest', 'embed', 'index', 'rank', 'policy', 'prompts', 'generate', 'reward', 'grpo-train', 'evaluate']) {
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

  it('trains a LoRA adapter with GRPO and writes its record, metrics and completions log', async () => {
    const dir = out('grpo-train');
    const record = JSON.parse(readFileSync(path.join(dir, 'policy.json'), 'utf8'));
    expect(record).toMatchObject({ format: 'ragrpo.policy', trainable: 'lora', adapter: { base: 'artifact', path: 'adapter' }, location: { base: 'absolute' } });
    expect(existsSync(path.join(dir, 'adapter', 'adapter_model.safetensors'))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(dir, 'adapter', 'adapter_config.json'), 'utf8'))).toMatchObject({ peft_type: 'LORA', r: 8, lora_alpha: 16 });
    const metrics = tableRows<{ step: number; kl: number | null }>(await readTable(path.join(dir, 'metrics.arrow'), GrpoMetrics));
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    // beta > 0 with LoRA B = 0 at the start: the policy is the reference, KL 0
    expect(metrics[0].kl).toBeCloseTo(0, 6);
    const log = await readTable(path.join(dir, 'completions_log.arrow'), CompletionsLog);
    expect(log.numRows).toBe(6 * 4);
    expect(readdirSync(path.join(dir, 'checkpoints')).sort()).toEqual(['checkpoint-2', 'checkpoint-4']);
    expect(existsSync(path.join(good.artifacts, 'learn', '.grpo-train.resume'))).toBe(false);
    // evaluate takes the trained record as is: the adapter over the start policy's folder
    const summary = JSON.parse(readFileSync(path.join(out('evaluate'), 'summary.json'), 'utf8'));
    expect(summary.primary_reward).toBe('token_f1');
    expect(summary.rewards.token_f1.difference).toMatchObject({ mean: expect.any(Number), ci_low: expect.any(Number), ci_high: expect.any(Number) });
  });

  it('killed with SIGKILL between checkpoints, a second run resumes and ends with byte-identical adapter files', async () => {
    const c = setup('sigkill', yaml());
    rmSync(out('grpo-train', c.artifacts), { recursive: true, force: true });
    const child = spawn(path.join(root, 'node_modules', '.bin', 'tsx'), ['packages/grpo-train/src/cli.ts', '--pipeline', c.pipeline], {
      cwd: root, env: { ...process.env, RAGRPO_ARTIFACTS: c.artifacts, CI: '1' }, stdio: ['ignore', 'ignore', 'pipe'],
      detached: true, // its own process group: tsx runs the stage in a child process, and SIGKILL must reach both
    });
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // after the first checkpoint (step 2), during step 3: between checkpoints
        if (/step 3:/.test(stderr) && child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
      });
      child.on('exit', () => resolve());
    });
    expect(child.signalCode).toBe('SIGKILL');
    expect(existsSync(out('grpo-train', c.artifacts))).toBe(false);
    const again = stage('grpo-train', c.pipeline, c.artifacts);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/resuming from .*checkpoint-2 \(step 2\)/);
    for (const f of ['adapter_model.safetensors', 'adapter_config.json']) {
      expect(readFileSync(path.join(out('grpo-train', c.artifacts), 'adapter', f)).equals(readFileSync(path.join(out('grpo-train'), 'adapter', f))), f).toBe(true);
    }
    // and the temporary folder of the killed run is gone
    expect(readdirSync(path.join(c.artifacts, 'learn')).filter((f) => f.includes('.tmp-'))).toEqual([]);
  }, 300_000);

  it('an unknown reward name lists the known ones', () => {
    const c = setup('unknown-reward', yaml({ reward: 'reward:\n  reward_funcs: [token_f2]\n' }));
    const line = expectOneError(stage('reward', c.pipeline, c.artifacts), 'reward');
    expect(line).toContain("unknown reward 'token_f2'");
    expect(line).toContain('token_f1, contains_reference');
    expectNoOutput(c.artifacts, ['reward', 'grpo-train']);
    expect(existsSync(out('generate', c.artifacts))).toBe(true);
  });

  it('a weight count that does not match the rewards points at reward_weights', () => {
    const text = yaml({ reward: 'reward:\n  reward_funcs: [token_f1, format]\n  reward_weights: [1.0]\n' });
    const c = setup('weights', text);
    const line = expectOneError(stage('reward', c.pipeline, c.artifacts), 'reward');
    expect(line).toContain(`${c.pipeline}:${text.split('\n').indexOf('  reward_weights: [1.0]') + 1}:`);
    expect(line).toContain('reward.reward_weights: needs one weight per entry of reward_funcs');
    expectNoOutput(c.artifacts, ['reward', 'grpo-train']);
  });

  it('a user reward module that does not exist, or exports nothing callable, is named', () => {
    const missing = path.join(tmp, 'no-such-reward.ts');
    const c = setup('no-module', yaml({ reward: `reward:\n  reward_funcs: [mine]\n  custom:\n    mine: { module: ${JSON.stringify(missing)} }\n` }));
    expect(expectOneError(stage('reward', c.pipeline, c.artifacts), 'reward')).toContain(`${missing}: no such reward module`);
    const notCallable = path.join(tmp, 'not-callable.ts');
    writeFileSync(notCallable, 'export const weight = 3;\n');
    const d = setup('not-callable', yaml({ reward: `reward:\n  reward_funcs: [mine]\n  custom:\n    mine: { module: ${JSON.stringify(notCallable)} }\n` }));
    expect(expectOneError(stage('reward', d.pipeline, d.artifacts), 'reward')).toContain(`${notCallable}: export 'default' is not a reward function (it exports no function)`);
    expectNoOutput(d.artifacts, ['reward', 'grpo-train']);
  });

  it('a reward that throws names the reward and the question', () => {
    const thrower = path.join(tmp, 'thrower.ts');
    writeFileSync(thrower, "export default function (batch: { completions: string[] }) { throw new Error('no scores today'); }\n");
    const c = setup('thrower', yaml({ reward: `reward:\n  reward_funcs: [flaky]\n  custom:\n    flaky: { module: ${JSON.stringify(thrower)} }\n` }));
    const line = expectOneError(stage('reward', c.pipeline, c.artifacts), 'reward');
    expect(line).toMatch(/reward 'flaky' failed on the batch of question wine-q\d+: no scores today/);
    expectNoOutput(c.artifacts, ['reward', 'grpo-train']);
  });

  it('a missing judge model folder is named', () => {
    const model = path.join(tmp, 'no-judge');
    const c = setup('judge', yaml({ reward: `reward:\n  reward_funcs: [judge]\n  options:\n    judge: { model: ${JSON.stringify(model)} }\n` }));
    const line = expectOneError(stage('reward', c.pipeline, c.artifacts), 'reward');
    expect(line).toContain('reward.options.judge.model');
    expect(line).toContain(model);
    expectNoOutput(c.artifacts, ['reward', 'grpo-train']);
  });

  it('a template file without {question} is refused, and prompts\' downstream results go with it', () => {
    const file = path.join(tmp, 'bad-template.txt');
    writeFileSync(file, 'Context: {context}\nAnswer:');
    const c = setup('template', yaml({ prompts: `prompts:\n  template: { file: ${JSON.stringify(file)} }\n` }));
    expect(expectOneError(stage('prompts', c.pipeline, c.artifacts), 'prompts')).toContain(`${file}: the template has no {question} placeholder`);
    expectNoOutput(c.artifacts, ['prompts', 'generate', 'reward', 'grpo-train']);
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
    expectNoOutput(c.artifacts, ['generate', 'reward', 'grpo-train']);
  });

  it('an offline hub id that is not under models_dir says what to set', () => {
    const c = setup('offline', yaml({ policy: 'policy:\n  model: HuggingFaceTB/SmolLM2-135M-Instruct\n  models_dir: models\n' }));
    const line = expectOneError(stage('policy', c.pipeline, c.artifacts), 'policy');
    expect(line).toContain("policy.model 'HuggingFaceTB/SmolLM2-135M-Instruct' is not on this machine");
    expect(line).toContain('set policy.allow_remote: true');
    expectNoOutput(c.artifacts, ['policy', 'prompts', 'generate', 'reward', 'grpo-train']);
  });
});
