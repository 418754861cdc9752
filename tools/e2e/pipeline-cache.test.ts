import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The stage DAG through Nx itself, in this workspace: a throw-away pipeline file, a private
// cache folder, and the acceptance checks of the orchestration (cache hits, one-stage re-runs).
const root = path.resolve(import.meta.dirname, '../..');
const name = `e2e-cache-${process.pid}`;
const file = path.join(root, 'pipelines', `${name}.yaml`);
const artifacts = path.join(root, 'artifacts', name);
const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'nx-cache-'));
const wine = path.resolve(root, '..', 'shared', 'datasets', 'wine-reviews', 'winemag-data-130k-v2.sample.csv');

const yaml = (topN: number, weight = 0.5) => `seed: 3
ingest:
  documents:
    - kind: csv
      path: ${JSON.stringify(wine)}
      template: "{title}: {description}"
      limit: 400
  questions:
    path: datasets/wine-questions.jsonl
    question_field: question
    reference_field: reference
    limit: 8
  povs:
    items: [Good value for money, Oak and vanilla]
embed:
  sparse: { language: english }
index:
  top_k: 5
rank:
  top_n: ${topN}
policy:
  scratch: { vocab_size: 400, num_hidden_layers: 1, hidden_size: 32, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 512 }
  max_seq_length: 512
prompts:
  max_prompt_length: 300
generate:
  num_generations: 2
  max_completion_length: 6
reward:
  reward_funcs: [token_f1, contains_reference]
  reward_weights: [1.0, ${weight}]
`;

const nxEnv = { ...process.env, NX_DAEMON: 'false', NX_CACHE_DIRECTORY: cacheDir, NX_NO_CLOUD: 'true', NX_TUI: 'false', CI: 'true' };
function nx(...args: string[]): string {
  return execFileSync('npx', ['nx', ...args, '--outputStyle=static'], { cwd: root, env: nxEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** nx that may fail: its exit status and everything it printed. */
function nxStatus(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('npx', ['nx', ...args, '--outputStyle=static'], { cwd: root, env: nxEnv, encoding: 'utf8' });
  return { status: r.status, output: stripVTControlCharacters(`${r.stdout}${r.stderr}`) };
}

/** Which targets ran and which came from the cache, read from Nx's task lines. */
function tasks(out: string) {
  const ran: string[] = [];
  const cached: string[] = [];
  for (const m of stripVTControlCharacters(out).matchAll(/> nx run [^:\s]+:(\w+)([^\n]*)/g)) (/cache/.test(m[2]) ? cached : ran).push(m[1]);
  return { ran: ran.sort(), cached: cached.sort() };
}

describe.skipIf(!existsSync(wine))('the stage DAG under Nx', () => {
  beforeAll(() => writeFileSync(file, yaml(3)));
  afterAll(() => {
    rmSync(file, { force: true });
    rmSync(artifacts, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
  });

  const all = ['embed', 'generate', 'index', 'ingest', 'policy', 'prompts', 'rank', 'reward'];

  it('runs every stage, then serves a second run from the cache, train included', () => {
    const first = tasks(nx('run', `${name}:train`));
    expect(first.ran.filter((s) => s !== 'train')).toEqual(all);
    expect(first.cached.filter((s) => s !== 'train')).toEqual([]);
    expect(existsSync(path.join(artifacts, 'rank', 'ranked.arrow'))).toBe(true);
    expect(existsSync(path.join(artifacts, 'reward', 'rewards.arrow'))).toBe(true);
    expect(tasks(nx('run', `${name}:train`))).toEqual({ ran: [], cached: [...all, 'train'] });
  }, 300_000);

  it('re-runs rank and what reads it when only the rank section changes, nothing upstream', () => {
    writeFileSync(file, yaml(2));
    const t = tasks(nx('run', `${name}:train`));
    expect(t.ran.filter((s) => s !== 'train')).toEqual(['generate', 'prompts', 'rank', 'reward']);
    expect(t.cached).toEqual(expect.arrayContaining(['embed', 'index', 'ingest', 'policy']));
  }, 300_000);

  it('re-runs reward alone when only a reward weight changes', () => {
    writeFileSync(file, yaml(2, 0.25));
    const t = tasks(nx('run', `${name}:train`));
    expect(t.ran.filter((s) => s !== 'train')).toEqual(['reward']);
  }, 300_000);

  it('exits 1 with the failing stage\'s message when a stage fails, and keeps no stale result downstream', () => {
    writeFileSync(file, yaml(2, 0.25).replace('reward_funcs: [token_f1, contains_reference]', 'reward_funcs: [token_f1, contains_referenc]'));
    const r = nxStatus('run', `${name}:train`);
    expect(r.status).toBe(1);
    expect(r.output).toContain("[reward] error: reward.reward_funcs: unknown reward 'contains_referenc' (did you mean 'contains_reference'?)");
    expect(existsSync(path.join(artifacts, 'reward'))).toBe(false);
    writeFileSync(file, yaml(2, 0.25).replace('top_n: 2', 'top_n: -1'));
    const upstream = nxStatus('run', `${name}:train`);
    expect(upstream.status).toBe(1);
    expect(upstream.output).toContain('rank.top_n');
    for (const s of ['rank', 'prompts', 'generate', 'reward']) expect(existsSync(path.join(artifacts, s)), s).toBe(false);
    // the cache still has every earlier result: the good file restores them without running anything
    writeFileSync(file, yaml(2, 0.25));
    expect(tasks(nx('run', `${name}:train`)).ran.filter((s) => s !== 'train')).toEqual([]);
  }, 300_000);

  it('restores deleted artifacts from the cache and runs a stage with what it needs', () => {
    rmSync(artifacts, { recursive: true, force: true });
    expect(tasks(nx('run', `${name}:embed`))).toEqual({ ran: [], cached: ['embed', 'ingest'] });
    expect(existsSync(path.join(artifacts, 'embed', 'chunks.sparse.arrow'))).toBe(true);
    expect(existsSync(path.join(artifacts, 'rank'))).toBe(false);
    const before = readFileSync(path.join(artifacts, 'ingest', 'chunks.arrow'));
    expect(before.length).toBeGreaterThan(0);
  }, 300_000);
});
