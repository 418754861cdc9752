import { execFileSync } from 'node:child_process';
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

const yaml = (topN: number) => `seed: 3
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
`;

function nx(...args: string[]): string {
  return execFileSync('npx', ['nx', ...args, '--outputStyle=static'], {
    cwd: root,
    env: { ...process.env, NX_DAEMON: 'false', NX_CACHE_DIRECTORY: cacheDir, NX_NO_CLOUD: 'true', NX_TUI: 'false', CI: 'true' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

  it('runs every stage, then serves a second run from the cache', () => {
    expect(tasks(nx('run', `${name}:train`))).toEqual({ ran: ['embed', 'index', 'ingest', 'rank'], cached: [] });
    expect(existsSync(path.join(artifacts, 'rank', 'ranked.arrow'))).toBe(true);
    expect(tasks(nx('run', `${name}:train`))).toEqual({ ran: [], cached: ['embed', 'index', 'ingest', 'rank'] });
  }, 300_000);

  it('re-runs only rank when only the rank section changes', () => {
    writeFileSync(file, yaml(2));
    expect(tasks(nx('run', `${name}:train`))).toEqual({ ran: ['rank'], cached: ['embed', 'index', 'ingest'] });
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
