/**
 * The generate and reward stages with `endpoint:` instead of a local model, through their commands, against
 * `ragrpo serve` (the linked bin): a small wine pipeline whose policy is a scratch model; the policy stage's model
 * folder is served, generate asks it for every group member (text only, no log-probs: it says so), and the judge
 * reward asks it for scores. With models/smollm2-135m-instruct the judge is SmolLM2 served the same way, whose
 * replies carry real 1-10 scores. Bad endpoints fail with one line.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Completions, readTable, tableRows } from '@ragrpo/contracts';
import { startServe } from '@ragrpo/generate/testing';
import { expectOneError, root, runStage } from './stage-cli.ts';

const wine = path.resolve(root, '..', 'shared', 'datasets', 'wine-reviews', 'winemag-data-130k-v2.sample.csv');
const SMOLLM2 = path.join(root, 'models', 'smollm2-135m-instruct');
const hasSmollm2 = existsSync(path.join(SMOLLM2, 'model.safetensors'));
if (!hasSmollm2) console.warn(`smollm2-endpoints.test.ts: SKIPPED the SmolLM2 judge: ${path.relative(root, SMOLLM2)} is absent (npx tsx tools/models/fetch.ts all)`);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ragrpo-endpoints-'));
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const s of stops) await s();
  rmSync(tmp, { recursive: true, force: true });
});

/** `ragrpo serve` on a model folder, stopped after the file's tests; resolves with its base URL. */
async function serve(model: string): Promise<string> {
  const server = await startServe(model);
  stops.push(server.stop);
  return server.url;
}

const pipelineText = (gen: string, judge: string) => `seed: 5
ingest:
  documents:
    - kind: csv
      path: ${JSON.stringify(wine)}
      template: "{title} ({variety}). {description} Points: {points}. Price: {price}."
      limit: 200
  questions:
    path: datasets/wine-questions.jsonl
    id_field: id
    reference_field: reference
    limit: 8
    test_fraction: 0.25
  povs:
    items: [Good value for money]
embed:
  sparse: {}
index:
  top_k: 3
rank:
  top_n: 2
  heatmap: { max_questions: 0 }
policy:
  scratch: { vocab_size: 400, num_hidden_layers: 1, hidden_size: 32, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 512 }
  trainable: full
  max_seq_length: 512
prompts:
  template: chat
  max_prompt_length: 300
generate:
  endpoint: ${gen}
  num_generations: 2
  max_completion_length: 8
  limit: 3
reward:
  reward_funcs: [token_f1, judge]
  options:
    judge:
      endpoint: ${judge}
      max_new_tokens: 8
`;

const c = { pipeline: path.join(tmp, 'good', 'learn.yaml'), artifacts: path.join(tmp, 'good', 'artifacts') };
const out = (s: string) => path.join(c.artifacts, 'learn', s);
let policyUrl = '';

describe.skipIf(!existsSync(wine))('generate and reward with endpoint:, against ragrpo serve', () => {
  beforeAll(async () => {
    mkdirSync(path.dirname(c.pipeline), { recursive: true });
    const placeholder = '{ base_url: "http://127.0.0.1:9/v1", model: model }';
    writeFileSync(c.pipeline, pipelineText(placeholder, placeholder));
    for (const s of ['ingest', 'embed', 'index', 'rank', 'policy', 'prompts']) {
      const r = runStage(s, c.pipeline, c.artifacts);
      if (r.status !== 0) throw new Error(`${s} failed: ${r.stderr}`);
    }
    // The policy stage built the scratch model: serve it, and point both stages at it.
    policyUrl = await serve(out('policy/model'));
    const e = `{ base_url: "${policyUrl}", model: model, concurrency: 2 }`;
    writeFileSync(c.pipeline, pipelineText(e, e));
  }, 300_000);

  it('generate writes every group member from the endpoint: text, empty log-probs, and says so', async () => {
    const r = runStage('generate', c.pipeline, c.artifacts);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/completions from an endpoint: text only, no log-probs/);
    expect(r.stderr).toMatch(new RegExp(`9 completions in 3 groups from model at ${policyUrl.replace(/[.]/g, '\\.')} .*text only, no log-probs: evaluation only`));
    const rows = tableRows<{ variant: string; logprobs: Float32Array; completion_tokens: number }>(await readTable(path.join(out('generate'), 'completions.arrow'), Completions));
    expect(rows.map((x) => x.variant)).toEqual(['greedy', 'sample', 'sample', 'greedy', 'sample', 'sample', 'greedy', 'sample', 'sample']);
    expect(rows.every((x) => x.logprobs.length === 0)).toBe(true);
    const report = JSON.parse(readFileSync(path.join(out('generate'), 'report.json'), 'utf8'));
    expect(report).toMatchObject({ logprobs: false, requests: 9, endpoint: { base_url: policyUrl, model: 'model' } });
  }, 120_000);

  it('the judge reward asks the endpoint for every completion', () => {
    const r = runStage('reward', c.pipeline, c.artifacts);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(path.join(out('reward'), 'summary.json'), 'utf8'));
    expect(summary.judge).toMatchObject({ totalReplies: 9 });
    const spec = JSON.parse(readFileSync(path.join(out('reward'), 'reward_spec.json'), 'utf8'));
    expect(spec.options.judge.endpoint).toMatchObject({ base_url: policyUrl, model: 'model', max_retries: 3 });
  }, 120_000);

  it.skipIf(!hasSmollm2)('SmolLM2-135M-Instruct served as the judge gives 1-10 scores', async () => {
    const judgeUrl = await serve(SMOLLM2);
    const pipeline = path.join(tmp, 'good', 'learn.yaml');
    writeFileSync(pipeline, pipelineText(`{ base_url: "${policyUrl}", model: model }`, `{ base_url: "${judgeUrl}", model: smollm2-135m-instruct }`));
    const r = runStage('reward', pipeline, c.artifacts);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(path.join(out('reward'), 'summary.json'), 'utf8'));
    console.log(`smollm2-endpoints: SmolLM2 as the judge: ${summary.judge.totalReplies - summary.judge.totalUnparseable} of ${summary.judge.totalReplies} replies held a 1-10 score; judge mean ${summary.rewards.judge.mean.toFixed(3)}`);
    expect(summary.judge.totalReplies).toBe(9);
    expect(summary.judge.totalUnparseable).toBeLessThan(9);
  }, 300_000);

  it('an endpoint nobody listens on, and a model it does not serve: one line each', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const closed = `{ base_url: "http://127.0.0.1:${port}/v1", model: model, max_retries: 1 }`;
    writeFileSync(c.pipeline, pipelineText(closed, `{ base_url: "${policyUrl}", model: model }`));
    const g = expectOneError(runStage('generate', c.pipeline, c.artifacts), 'generate');
    expect(g).toBe(`[generate] error: generate.endpoint: cannot reach http://127.0.0.1:${port}/v1 (model model): ECONNREFUSED after 1 retry`);
    // generate failed, so its output is gone: restore it with a good endpoint, then break the judge.
    writeFileSync(c.pipeline, pipelineText(`{ base_url: "${policyUrl}", model: model }`, `{ base_url: "${policyUrl}", model: gpt-4o, max_retries: 0 }`));
    expect(runStage('generate', c.pipeline, c.artifacts).status).toBe(0);
    const j = expectOneError(runStage('reward', c.pipeline, c.artifacts), 'reward');
    expect(j).toMatch(/reward\.options\.judge\.endpoint: http:\/\/127\.0\.0\.1:\d+\/v1 \(model gpt-4o\) answered 404: The model 'gpt-4o' does not exist/);
  }, 300_000);
});
