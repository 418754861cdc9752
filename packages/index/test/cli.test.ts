import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chunks, DenseVectors, Retrieved, SparseVectors, readTable, tableRows, writeTable } from '@ragrpo/contracts';
import { loadEmbeddedStore } from '../src/index.ts';
import { bm25, chunksTable, denseTable, hashedEmbedding, repoRoot, sparseTable, wineChunks } from './fixtures.ts';

const run = promisify(execFile);
const cli = path.join(repoRoot, 'packages', 'index', 'src', 'cli.ts');
const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');

/** Runs the index command on a pipeline with the given index section; artifacts go to `artifacts`. */
async function runIndex(dir: string, artifacts: string, indexYaml: string, env: Record<string, string> = {}) {
  const file = path.join(dir, 'idx-test.yaml');
  await writeFile(file, `ingest:\n  documents:\n    - kind: text\n      path: docs\nembed:\n  sparse: {}\nindex:\n${indexYaml}\n`);
  // A QDRANT_URL in the developer's shell must not switch these runs to Qdrant.
  const childEnv: NodeJS.ProcessEnv = { ...process.env, QDRANT_URL: '', RAGRPO_ARTIFACTS: artifacts, CI: '1', ...env };
  try {
    const r = await run(tsx, [cli, '--pipeline', file], { cwd: repoRoot, env: childEnv });
    return { code: 0, stderr: r.stderr + r.stdout };
  } catch (err) {
    const e = err as { code: number; stderr: string; stdout: string };
    return { code: e.code, stderr: e.stderr + e.stdout };
  }
}

describe('index command', () => {
  let dir: string;
  let artifacts: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ragrpo-index-cli-'));
    artifacts = path.join(dir, 'artifacts');
    const chunks = wineChunks(80);
    const ids = chunks.map((c) => c.chunk_id);
    const { docVectors, query } = bm25(chunks.map((c) => c.text));
    const qs = [['q1', 'riesling with lime'], ['q2', 'cabernet tannins'], ['q3', 'pinot noir cherry']];
    const ingest = path.join(artifacts, 'idx-test', 'ingest');
    const embed = path.join(artifacts, 'idx-test', 'embed');
    await mkdir(ingest, { recursive: true });
    await writeTable(path.join(ingest, 'chunks.arrow'), Chunks, chunksTable(chunks));
    await writeTable(path.join(embed, 'chunks.sparse.arrow'), SparseVectors, sparseTable(ids, docVectors, 'document'));
    await writeTable(path.join(embed, 'questions.sparse.arrow'), SparseVectors, sparseTable(qs.map((q) => q[0]), qs.map((q) => query(q[1])), 'query'));
    await writeTable(path.join(embed, 'chunks.dense.arrow'), DenseVectors, denseTable(ids, chunks.map((c) => hashedEmbedding(c.text)), 'document'));
    await writeTable(path.join(embed, 'questions.dense.arrow'), DenseVectors, denseTable(qs.map((q) => q[0]), qs.map((q) => hashedEmbedding(q[1])), 'query'));
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('writes retrieved.arrow and a reloadable embedded store', async () => {
    const r = await runIndex(dir, artifacts, '  search: hybrid\n  top_k: 3');
    expect(r.stderr).toContain('upsert chunks: 80 chunks');
    expect(r.stderr).toContain('hybrid queries: 3 questions');
    expect(r.code).toBe(0);
    const out = path.join(artifacts, 'idx-test', 'index');
    const rows = tableRows<{ question_id: string; rank: number; method: string; text: string }>(await readTable(path.join(out, 'retrieved.arrow'), Retrieved));
    expect(rows.map((x) => `${x.question_id}:${x.rank}`)).toEqual(['q1:1', 'q1:2', 'q1:3', 'q2:1', 'q2:2', 'q2:3', 'q3:1', 'q3:2', 'q3:3']);
    expect(rows.every((x) => x.method === 'hybrid')).toBe(true);
    const store = await loadEmbeddedStore(path.join(out, 'store'));
    expect(await store.count()).toBe(80);
  });

  it('fails with one line naming the missing artifact and the option to set', async () => {
    await rm(path.join(artifacts, 'idx-test', 'embed', 'chunks.dense.arrow'));
    await mkdir(path.join(artifacts, 'idx-test', 'rank'), { recursive: true }); // an earlier rank result
    const r = await runIndex(dir, artifacts, '  search: dense');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/chunks\.dense\.arrow: not found\. dense search needs .* set embed\.dense\.model/);
    // the previous output no longer matches the pipeline file, so it is gone (Nx's cache still has it),
    // and so is everything downstream of it that would look current
    expect(existsSync(path.join(artifacts, 'idx-test', 'index'))).toBe(false);
    expect(existsSync(path.join(artifacts, 'idx-test', 'rank'))).toBe(false);
    expect(existsSync(path.join(artifacts, 'idx-test', 'embed'))).toBe(true);
  });

  it('an unreachable Qdrant is one clear error', async () => {
    const r = await runIndex(dir, artifacts, '  search: sparse', { QDRANT_URL: 'http://127.0.0.1:9' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach Qdrant at http://127.0.0.1:9 (');
    expect(r.stderr).toContain('start it or unset QDRANT_URL / index.qdrant.url to use the embedded store');
  });
});
