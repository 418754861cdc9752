import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prompts, readTable, tableRows } from '@ragrpo/contracts';
import { splitReasoning } from '@ragrpo/generate';
import { loadLora, loadModel } from '@ragrpo/model';
import { rewardFunctions, scoreRewards, type RewardBatch, type RewardSpec } from '@ragrpo/reward';
import { root, runStage } from './stage-cli.ts';

// The TRL hand-off (issue 9): a small copy of the default pipeline (scratch Llama, sft warm-up, LoRA) exported by
// the export-trl stage, its rewards served by `ragrpo reward-server`, and, where tools/reference/.venv-trl
// exists, TRL's GRPOTrainer training 2 steps on CPU through that server, the adapter loaded back into ragrpo
// and evaluate run on it. The export and the server need no Python and always run.
const wine = path.resolve(root, '..', 'shared', 'datasets', 'wine-reviews', 'winemag-data-130k-v2.sample.csv');
const TRL_PYTHON = process.env.RAGRPO_TRL_PYTHON ?? path.join(root, 'tools', 'reference', '.venv-trl', 'bin', 'python');
const haveTrl = existsSync(TRL_PYTHON);
if (!haveTrl) console.log('trl-export: SKIPPED (no tools/reference/.venv-trl: run tools/reference/setup_trl_venv.sh) for the TRL training, layout and evaluate tests');

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ragrpo-trl-'));
const pipeline = path.join(tmp, 'trl.yaml');
const artifacts = path.join(tmp, 'artifacts');
const out = (s: string) => path.join(artifacts, 'trl', s);
const exportDir = out('export-trl');

const yaml = `seed: 7
ingest:
  documents:
    - kind: csv
      path: ${JSON.stringify(wine)}
      template: "{title} ({variety}). {description} Points: {points}. Price: {price}."
      id_column: id
      on_bad_row: skip
      limit: 300
  questions:
    path: datasets/wine-questions.jsonl
    id_field: id
    question_field: question
    reference_field: reference
    gold_field: gold_chunk_ids
    limit: 8
    test_fraction: 0.5
  povs:
    items: [Good value for money, Oak and vanilla]
embed:
  sparse: {}
index:
  top_k: 4
rank:
  top_n: 2
  pov_weight: 0.5
  heatmap: { max_questions: 0 }
policy:
  scratch: { arch: llama, vocab_size: 600, num_hidden_layers: 1, hidden_size: 32, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 512 }
  trainable: lora
  lora: { r: 4, lora_alpha: 8, target_modules: [q_proj, v_proj] }
  max_seq_length: 512
prompts:
  template: chat
  alternatives: [context_only]
  context_order: rank
  max_prompt_length: 400
sft:
  pretrain: { max_steps: 4, max_length: 64, per_device_train_batch_size: 4, learning_rate: 0.005 }
  finetune: { max_steps: 2, per_device_train_batch_size: 4, learning_rate: 0.005 }
  logging_steps: 2
generate:
  num_generations: 2
  max_completion_length: 8
  temperatures: [0.7]
  template_variants: [context_only]
reward:
  reward_funcs: [token_f1, contains_reference, context_faithfulness, length]
  reward_weights: [1.0, 0.5, 0.25, 0.1]
  options:
    length: { unit: chars, max: 16 }    # a signal even a random-weight policy's answers vary in
  scale_rewards: group
grpo:
  num_generations: 2
  max_completion_length: 8
  per_device_train_batch_size: 4
  learning_rate: 0.01
  lr_scheduler_type: constant
  max_steps: 6
  save_steps: 1
  loss_type: dapo
  beta: 0.04
  dynamic_sampling: { max_attempts: 1 }
evaluate:
  primary_reward: token_f1
  max_completion_length: 8
`;

/** `npx ragrpo reward-server` as a user starts it; resolves with its URL from the listening line. */
function startServer(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [path.join(root, 'packages', 'cli', 'bin', 'ragrpo.mjs'), 'reward-server', ...args], {
    cwd: root, env: { ...process.env, RAGRPO_ARTIFACTS: artifacts }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (m) resolve({ child, url: m[1], stderr: () => stderr });
    });
    child.on('exit', (code) => reject(new Error(`reward-server exited ${code}: ${stderr}`)));
  });
}

async function post(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

interface Row { prompt: { role: string; content: string }[]; question_id: string; question: string; reference: string | null; context: string }

describe.skipIf(!existsSync(wine))('export-trl: the pipeline handed to TRL, scored by ragrpo\'s reward server', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let rows: Row[];
  let manifest: any;
  beforeAll(async () => {
    mkdirSync(tmp, { recursive: true });
    writeFileSync(pipeline, yaml);
    for (const s of ['ingest', 'embed', 'index', 'rank', 'policy', 'prompts', 'sft', 'generate', 'reward', 'export-trl']) {
      const r = runStage(s, pipeline, artifacts);
      if (r.status !== 0) throw new Error(`${s} failed: ${r.stderr}`);
    }
    rows = readFileSync(path.join(exportDir, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row);
    manifest = JSON.parse(readFileSync(path.join(exportDir, 'export.json'), 'utf8'));
    server = await startServer(['--pipeline', pipeline, '--port', '0']);
  }, 300_000);
  afterAll(() => {
    server?.child.kill('SIGTERM');
    rmSync(tmp, { recursive: true, force: true });
  });

  it('is a target of every pipeline that has grpo:, after prompts, the warm-up policy and reward', () => {
    const { projectFor } = createRequire(import.meta.url)(path.join(root, 'packages/nx-plugin/src/index.cjs')) as { projectFor: (f: string, r: string) => any };
    const project = projectFor(pipeline, root).projects[pipeline];
    expect(project.targets['export-trl'].dependsOn.sort()).toEqual(['prompts', 'reward', 'sft']);
    expect(project.targets['export-trl'].outputs).toContain(`{workspaceRoot}/artifacts/trl/export-trl/train_trl.py`);
    const noGrpo = path.join(tmp, 'no-grpo.yaml');
    writeFileSync(noGrpo, yaml.slice(0, yaml.indexOf('grpo:')));
    expect(projectFor(noGrpo, root).projects[noGrpo].targets['export-trl']).toBeUndefined();
  });

  it('writes the train prompts as a conversational dataset, the GRPOConfig option by option, and train_trl.py', async () => {
    const prompts = tableRows<{ question_id: string; split: string; is_main: boolean; question: string; reference: string | null; context: string }>(
      await readTable(path.join(out('prompts'), 'prompts.arrow'), Prompts));
    const train = prompts.filter((p) => p.is_main && p.split === 'train');
    expect(rows.map((r) => r.question_id)).toEqual(train.map((p) => p.question_id));
    for (const [i, r] of rows.entries()) {
      expect(r.prompt.map((m) => m.role)).toEqual(['system', 'user']);
      expect(r.prompt[1].content).toContain(train[i].question);
      expect({ question: r.question, reference: r.reference, context: r.context }).toEqual({ question: train[i].question, reference: train[i].reference, context: train[i].context });
    }
    const config = JSON.parse(readFileSync(path.join(exportDir, 'grpo_config.json'), 'utf8'));
    expect(config).toMatchObject({
      num_generations: 2, max_completion_length: 8, per_device_train_batch_size: 4, learning_rate: 0.01, lr_scheduler_type: 'constant',
      max_steps: 6, save_steps: 1, loss_type: 'dapo', beta: 0.04, epsilon: 0.2, epsilon_high: 0.2, seed: 7, logging_steps: 1,
      reward_weights: [1, 0.5, 0.25, 0.1], scale_rewards: 'group', multi_objective_aggregation: 'sum_then_normalize', bf16: false,
    });
    expect(manifest.not_exported.map((n: { option: string }) => n.option)).toEqual(['dynamic_sampling', 'save_merged_model']);
    expect(manifest.not_exported[0].value).toEqual({ enabled: true, max_attempts: 1 });
    expect(manifest.policy).toMatchObject({ folder: '../policy/model', warmup_adapter: '../sft/adapter', trainable: 'lora', has_chat_template: true });
    expect(manifest.dataset).toMatchObject({ file: 'train.jsonl', rows: train.length, conversational: true });
    const spec = readFileSync(path.join(out('reward'), 'reward_spec.json'));
    expect(manifest.rewards.spec_sha256).toBe(createHash('sha256').update(spec).digest('hex'));
    expect(readFileSync(path.join(exportDir, 'train_trl.py'), 'utf8')).toMatch(/GRPOTrainer\(model=model, reward_funcs=server\.functions/);
  });

  it('serves every reward with TRL\'s contract: the values ragrpo\'s own library gives, no weights applied', async () => {
    const info = await (await fetch(`${server.url}/rewards`)).json();
    expect(info).toMatchObject({ reward_funcs: ['token_f1', 'contains_reference', 'context_faithfulness', 'length'], reward_weights: [1, 0.5, 0.25, 0.1], spec_sha256: manifest.rewards.spec_sha256 });
    const r = rows[0];
    const texts = [r.reference ?? '', `<think>the price is listed</think> ${r.reference}`, 'no idea', r.context.slice(0, 80)];
    const body = {
      prompts: texts.map(() => 'the rendered prompt'),
      // TRL's conversational completions: one assistant message each
      completions: texts.map((t) => [{ role: 'assistant', content: t }]),
      completion_ids: texts.map(() => [1, 2, 3]),
      columns: { question_id: texts.map(() => r.question_id), question: texts.map(() => r.question), reference: texts.map(() => r.reference), context: texts.map(() => r.context) },
    };
    const got = await post(`${server.url}/score`, body);
    expect(got.status, JSON.stringify(got.json)).toBe(200);
    const spec = JSON.parse(readFileSync(path.join(out('reward'), 'reward_spec.json'), 'utf8')) as RewardSpec;
    const split = texts.map((t) => splitReasoning(t));
    const batch: RewardBatch = {
      prompts: body.prompts, completions: split.map((s) => s.answer), completionIds: body.completion_ids,
      columns: { ...body.columns, reasoning: split.map((s) => s.reasoning) },
    };
    const want = await scoreRewards(await rewardFunctions(spec, { root }), batch);
    expect(got.json.rewards).toEqual({ token_f1: want[0], contains_reference: want[1], context_faithfulness: want[2], length: want[3] });
    expect(got.json.rewards.token_f1[0]).toBe(1); // the reference itself, and again after its <think> block
    expect(got.json.rewards.token_f1[1]).toBe(1);
    const one = await post(`${server.url}/score`, { ...body, rewards: ['contains_reference'] });
    expect(Object.keys(one.json.rewards)).toEqual(['contains_reference']);
  });

  it('answers a malformed request with one 4xx naming the field', async () => {
    const ok = { prompts: ['p'], completions: ['c'], completion_ids: [[1]], columns: { question_id: ['q'], question: ['?'], reference: [null], context: [''] } };
    const cases: [unknown, number, RegExp][] = [
      ['{"prompts": [', 400, /^body: not valid JSON/],
      [{ ...ok, completions: 'c' }, 400, /^completions: /],
      [{ ...ok, completion_ids: [[1], [2]] }, 400, /^completion_ids: has 2 entries for 1 completions/],
      [{ ...ok, completion_ids: [[-1]] }, 400, /^completion_ids\[0\]\[0\]: /],
      [{ ...ok, columns: { question_id: ['q'], question: ['?'], context: [''] } }, 400, /^columns\.reference: required/],
      [{ ...ok, columns: { ...ok.columns, question: [3] } }, 400, /^columns\.question\[0\]: expected a string/],
      [{ ...ok, rewards: ['token_f2'] }, 400, /^rewards\[0\]: unknown reward 'token_f2'; this server serves token_f1, contains_reference, context_faithfulness, length/],
      [{ ...ok, weights: [1] }, 400, /unknown field\(s\) weights/],
      [{ ...ok, prompts: [], completions: [], completion_ids: [], columns: { question_id: [], question: [], reference: [], context: [] } }, 400, /^completions: empty/],
    ];
    for (const [body, status, message] of cases) {
      const r = await post(`${server.url}/score`, body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.json.error, JSON.stringify(body)).toMatch(message);
    }
    expect((await fetch(`${server.url}/score`)).status).toBe(405);
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    // a body over the limit is refused without being read to its end
    const small = await startServer(['--pipeline', pipeline, '--port', '0', '--max-body-mb', '0.001']);
    try {
      const r = await post(`${small.url}/score`, { ...ok, prompts: ['x'.repeat(4096)] });
      expect(r.status).toBe(413);
      expect(r.json.error).toMatch(/^body: \d+ bytes is over the limit of 1048 bytes/);
    } finally {
      small.child.kill('SIGTERM');
    }
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
  });

  it.skipIf(!haveTrl)('transformers loads the policy folder and tokenizer as is; TRL tokenizes the prompts to ragrpo\'s ids; GRPOConfig takes every field', async () => {
    const prompts = tableRows<{ question_id: string; split: string; is_main: boolean; prompt_ids: Int32Array }>(await readTable(path.join(out('prompts'), 'prompts.arrow'), Prompts));
    const ids = Object.fromEntries(prompts.filter((p) => p.is_main && p.split === 'train').map((p) => [p.question_id, Array.from(p.prompt_ids)]));
    writeFileSync(path.join(tmp, 'ids.json'), JSON.stringify(ids));
    const r = spawnSync(TRL_PYTHON, [path.join(root, 'tools/reference/trl_export_check.py'), '--export', exportDir, '--ids', path.join(tmp, 'ids.json')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const check = JSON.parse(r.stdout);
    expect(check).toMatchObject({
      model_class: 'LlamaForCausalLM', rows: rows.length, conversational: true, token_mismatches: [], unknown_config_fields: [], logits_finite: true,
      config: { loss_type: 'dapo', beta: 0.04, bf16: false, gradient_checkpointing: false, seed: 7 },
    });
  }, 300_000);

  it.skipIf(!haveTrl)('TRL trains 2 GRPO steps on CPU through the reward server; ragrpo loads the adapter and evaluate runs on it', async () => {
    const trlOut = path.join(tmp, 'trl-output');
    const before = ((await (await fetch(`${server.url}/health`)).json()) as { batches: number }).batches;
    const r = spawnSync(TRL_PYTHON, [path.join(exportDir, 'train_trl.py'), '--reward-url', server.url, '--output-dir', trlOut, '--max-steps', '2', '--no-resume'], {
      encoding: 'utf8', env: { ...process.env, TOKENIZERS_PARALLELISM: 'false', HF_HUB_OFFLINE: '1' },
    });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    expect(r.stdout).toMatch(/train_trl: 2 GRPO steps \(lora, dapo, beta 0\.04\)/);
    // both generations were scored by the server: one POST per reward and generation
    const health = (await (await fetch(`${server.url}/health`)).json()) as { batches: number };
    expect(health.batches - before).toBe(2 * 4);
    const steps = readFileSync(path.join(trlOut, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((m) => 'reward' in m);
    expect(steps).toHaveLength(2);
    for (const m of steps) for (const k of ['rewards/token_f1/mean', 'rewards/contains_reference/mean', 'rewards/context_faithfulness/mean', 'rewards/length/mean', 'kl', 'loss']) expect(m, k).toHaveProperty(k);

    // the adapter TRL wrote loads into ragrpo over the same base, and moved away from the warm-up adapter it started from
    const record = JSON.parse(readFileSync(path.join(trlOut, 'policy.json'), 'utf8'));
    const sftRecord = JSON.parse(readFileSync(path.join(out('sft'), 'policy.json'), 'utf8'));
    expect(record).toMatchObject({ format: 'ragrpo.policy', trainable: 'lora', digest: sftRecord.digest, location: { base: 'absolute', path: path.join(out('policy'), 'model') }, adapter: { base: 'artifact', path: 'adapter' } });
    const base = await loadModel(record.location.path, { tokenizer: false });
    const trained = loadLora(path.join(trlOut, 'adapter'), base.config);
    const warmup = loadLora(path.join(out('sft'), 'adapter'), base.config);
    expect([...trained.weights.keys()].sort()).toEqual([...warmup.weights.keys()].sort());
    const moved = [...trained.weights].some(([k, w]) => w.data.some((v, i) => Math.abs(v - warmup.weights.get(k)!.data[i]) > 1e-7));
    expect(moved).toBe(true);

    // evaluate compares the warm-up policy with TRL's: the record and adapter stand where grpo-train's would
    const grpo = out('grpo-train');
    rmSync(grpo, { recursive: true, force: true });
    mkdirSync(grpo, { recursive: true });
    cpSync(path.join(trlOut, 'policy.json'), path.join(grpo, 'policy.json'));
    cpSync(path.join(trlOut, 'adapter'), path.join(grpo, 'adapter'), { recursive: true });
    const ev = runStage('evaluate', pipeline, artifacts);
    expect(ev.status, ev.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(path.join(out('evaluate'), 'summary.json'), 'utf8'));
    expect(summary.policies.after).not.toBeNull();
    expect(summary.rewards.token_f1.after).not.toBeNull();
  }, 600_000);
});
