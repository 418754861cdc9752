import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTable, SftLoss, tableRows } from '@ragrpo/contracts';
import { expectOneError, root, runStage } from './stage-cli.ts';

// The sft stage through its command on a small wine pipeline: it writes the warm-up policy that
// generate then samples from (generate reads `policy` from sft when the pipeline has an sft: section),
// and its bad inputs fail with one line, a non-zero exit and no sft (or downstream) folder left.
const wine = path.resolve(root, '..', 'shared', 'datasets', 'wine-reviews', 'winemag-data-130k-v2.sample.csv');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ragrpo-sft-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const head = (references: boolean) => `seed: 5
ingest:
  documents:
    - kind: csv
      path: ${JSON.stringify(wine)}
      template: "{title} ({variety}). {description} Points: {points}. Price: {price}."
      limit: 200
  questions:
    path: datasets/wine-questions.jsonl
    id_field: id
${references ? '    reference_field: reference\n' : ''}    limit: 8
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
  num_generations: 2
  max_completion_length: 6
  splits: [test]
`;
const sft = `sft:
  pretrain: { max_steps: 6, max_length: 64, per_device_train_batch_size: 4, learning_rate: 0.005 }
  finetune: { max_steps: 4, per_device_train_batch_size: 4, learning_rate: 0.005 }
  eval_steps: 2
  logging_steps: 2
`;
const UPSTREAM = ['ingest', 'embed', 'index', 'rank', 'policy', 'prompts'];

const good = { pipeline: path.join(tmp, 'good', 'learn.yaml'), artifacts: path.join(tmp, 'good', 'artifacts') };
const noRef = { pipeline: path.join(tmp, 'noref', 'learn.yaml'), artifacts: path.join(tmp, 'noref', 'artifacts') };
const out = (s: string, artifacts = good.artifacts) => path.join(artifacts, 'learn', s);

function runAll(c: { pipeline: string; artifacts: string }, stages: string[]): void {
  for (const s of stages) {
    const r = runStage(s, c.pipeline, c.artifacts);
    if (r.status !== 0) throw new Error(`${s} failed: ${r.stderr}`);
  }
}

describe.skipIf(!existsSync(wine))('the sft stage through its command', () => {
  beforeAll(() => {
    for (const [c, text] of [[good, head(true) + sft], [noRef, head(false) + sft]] as const) {
      mkdirSync(path.dirname(c.pipeline), { recursive: true });
      writeFileSync(c.pipeline, text);
    }
    runAll(good, [...UPSTREAM, 'sft', 'generate']);
    runAll(noRef, UPSTREAM);
  }, 300_000);

  it('writes the warm-up policy, its loss curve and report; generate samples from it', async () => {
    const record = JSON.parse(readFileSync(path.join(out('sft'), 'policy.json'), 'utf8'));
    expect(record).toMatchObject({ format: 'ragrpo.policy', source: 'scratch', trainable: 'full', location: { base: 'artifact', path: 'model' } });
    expect(existsSync(path.join(out('sft'), 'model', 'model.safetensors'))).toBe(true);
    const rows = tableRows<{ phase: string; step: number; eval_loss: number | null }>(await readTable(path.join(out('sft'), 'loss.arrow'), SftLoss));
    expect(rows.map((r) => `${r.phase}:${r.step}`)).toEqual([
      'pretrain:0', 'pretrain:1', 'pretrain:2', 'pretrain:3', 'pretrain:4', 'pretrain:5', 'pretrain:6',
      'finetune:0', 'finetune:1', 'finetune:2', 'finetune:3', 'finetune:4',
    ]);
    expect(rows.filter((r) => r.eval_loss !== null).map((r) => `${r.phase}:${r.step}`))
      .toEqual(['pretrain:0', 'pretrain:2', 'pretrain:4', 'pretrain:6', 'finetune:0', 'finetune:2', 'finetune:4']);
    const report = JSON.parse(readFileSync(path.join(out('sft'), 'report.json'), 'utf8'));
    expect(report).toMatchObject({ output: 'model', steps: 10, pretrain: { steps: 6, max_length: 64 }, finetune: { steps: 4 } });
    expect(report.held_out_loss_before_finetune).toBeGreaterThan(0);
    expect(existsSync(path.join(out('generate'), 'completions.arrow'))).toBe(true);
  });

  it('a second run in another process writes byte-identical loss curve, record and weights', () => {
    const artifacts = path.join(tmp, 'again', 'artifacts');
    cpSync(good.artifacts, artifacts, { recursive: true });
    rmSync(out('sft', artifacts), { recursive: true });
    runAll({ pipeline: good.pipeline, artifacts }, ['sft']);
    for (const f of ['loss.arrow', 'policy.json', 'model/model.safetensors']) {
      expect(readFileSync(path.join(out('sft', artifacts), f)).equals(readFileSync(path.join(out('sft'), f))), f).toBe(true);
    }
  });

  it('generate reads the policy from sft when the pipeline has an sft: section', () => {
    const dir = path.join(tmp, 'from-sft');
    const artifacts = path.join(dir, 'artifacts');
    cpSync(good.artifacts, artifacts, { recursive: true });
    rmSync(path.join(out('sft', artifacts), 'policy.json'));
    const line = expectOneError(runStage('generate', good.pipeline, artifacts), 'generate');
    expect(line).toContain(`${path.join(out('sft', artifacts), 'policy.json')}: not found`);
  });

  it('an sft: section with neither pretrain nor finetune is refused where it is written', () => {
    const dir = path.join(tmp, 'empty');
    mkdirSync(dir, { recursive: true });
    const pipeline = path.join(dir, 'learn.yaml');
    const text = head(true) + 'sft:\n  eval_steps: 5\n';
    writeFileSync(pipeline, text);
    const artifacts = path.join(dir, 'artifacts');
    cpSync(good.artifacts, artifacts, { recursive: true });
    const line = expectOneError(runStage('sft', pipeline, artifacts), 'sft');
    expect(line).toContain(`${pipeline}:${text.split('\n').indexOf('  eval_steps: 5') + 1}:`);
    expect(line).toContain('sft: configure pretrain, finetune or both');
    // the stale warm-up and what was sampled from it are gone; upstream stays
    for (const s of ['sft', 'generate']) expect(existsSync(out(s, artifacts)), s).toBe(false);
    expect(existsSync(out('prompts', artifacts))).toBe(true);
    expect(readdirSync(path.join(artifacts, 'learn')).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('finetune on a question set without references says what to give', () => {
    const line = expectOneError(runStage('sft', noRef.pipeline, noRef.artifacts), 'sft');
    expect(line).toMatch(/sft\.finetune: nothing to train on: none of the \d+ train questions has a reference answer \(give ingest\.questions\.reference_field, or drop sft\.finetune\)/);
    expect(existsSync(out('sft', noRef.artifacts))).toBe(false);
    expect(readdirSync(path.join(noRef.artifacts, 'learn')).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
