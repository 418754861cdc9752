import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runStageCommand } from '@ragrpo/config';
import { rankStage } from '../src/stage.ts';
import {
  DenseVectors, PovMatrix, Povs, Questions, Ranked, Retrieved, SparseVectors, readTable, tableFromRows, tableRows, writeTable,
} from '@ragrpo/contracts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = path.join(repoRoot, 'packages/rank/src/cli.ts');

/** The real command in a child process: proves cli.ts wiring (slow: loads tsx and vega afresh). */
function spawnRank(root: string, pipeline: string) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', cli, '--pipeline', pipeline], {
    cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NX_WORKSPACE_ROOT: root, RAGRPO_ARTIFACTS: 'artifacts', CI: '1' },
  });
  return { code: res.status, stderr: res.stderr };
}

/** The same command in this process (fast): stderr captured, exit code read from process.exitCode. */
async function runRank(root: string, pipeline: string) {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { lines.push(String(chunk)); return true; });
  const env = { root: process.env.NX_WORKSPACE_ROOT, ci: process.env.CI, art: process.env.RAGRPO_ARTIFACTS };
  process.env.NX_WORKSPACE_ROOT = root;
  process.env.CI = '1';
  process.env.RAGRPO_ARTIFACTS = 'artifacts';
  try {
    await runStageCommand('rank', rankStage, ['node', 'rank', '--pipeline', pipeline]);
    return { code: process.exitCode ?? 0, stderr: lines.join('') };
  } finally {
    spy.mockRestore();
    process.exitCode = undefined;
    if (env.root === undefined) delete process.env.NX_WORKSPACE_ROOT; else process.env.NX_WORKSPACE_ROOT = env.root;
    if (env.ci === undefined) delete process.env.CI; else process.env.CI = env.ci;
    if (env.art === undefined) delete process.env.RAGRPO_ARTIFACTS; else process.env.RAGRPO_ARTIFACTS = env.art;
  }
}

const PIPELINE = `ingest:
  documents:
    - kind: text
      path: docs
  questions:
    path: questions.jsonl
  povs:
    items: ["Acidity matters", "Colonial history"]
embed:
  sparse: {}
rank:
  top_n: 1
`;

describe('rank command', () => {
  let root: string;
  afterEach(() => vi.restoreAllMocks());
  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'rank-cli-'));
    writeFileSync(path.join(root, 'demo.yaml'), PIPELINE);
    writeFileSync(path.join(root, 'nopovs.yaml'), PIPELINE.replace(/ {2}povs:\n.*\n/, ''));
    const art = (stage: string, file: string) => path.join(root, 'artifacts', 'demo', stage, file);
    await writeTable(art('ingest', 'questions.arrow'), Questions, tableFromRows(Questions, [
      { question_id: 'q/1', question: 'Which wines suit fish?', reference: null, split: 'train', gold_chunk_ids: [], source: 'questions.jsonl' },
      { question_id: 'q2', question: 'A question nothing was retrieved for', reference: null, split: 'test', gold_chunk_ids: [], source: 'questions.jsonl' },
    ]));
    await writeTable(art('ingest', 'povs.arrow'), Povs, tableFromRows(Povs, [
      { pov_id: 'p1', text: 'Acidity matters', source: 'items' }, { pov_id: 'p2', text: 'Colonial history', source: 'items' },
    ]));
    await writeTable(art('index', 'retrieved.arrow'), Retrieved, tableFromRows(Retrieved, [
      { question_id: 'q/1', rank: 1, chunk_id: 'a', score: 0.9, method: 'sparse', text: 'Oaky red' },
      { question_id: 'q/1', rank: 2, chunk_id: 'b', score: 0.8, method: 'sparse', text: 'Crisp white with lemon' },
    ]));
    // Dense: b is the POV-heavy chunk (cos 1/sqrt2 with both). Sparse says the opposite, so the output tells which was used.
    await writeTable(art('embed', 'chunks.dense.arrow'), DenseVectors, tableFromRows(DenseVectors, [{ id: 'a', vector: [0, 0, 1] }, { id: 'b', vector: [1, 1, 0] }]));
    await writeTable(art('embed', 'povs.dense.arrow'), DenseVectors, tableFromRows(DenseVectors, [{ id: 'p1', vector: [1, 0, 0] }, { id: 'p2', vector: [0, 1, 0] }]));
    await writeTable(art('embed', 'chunks.sparse.arrow'), SparseVectors, tableFromRows(SparseVectors, [
      { id: 'a', indices: [0], values: [1] }, { id: 'b', indices: [5], values: [1] },
    ]));
    await writeTable(art('embed', 'povs.sparse.arrow'), SparseVectors, tableFromRows(SparseVectors, [
      { id: 'p1', indices: [0], values: [2] }, { id: 'p2', indices: [1], values: [1] },
    ]));
  });

  it('writes ranked.arrow, pov_matrix.arrow, heatmaps and index.html, defaulting to dense vectors', async () => {
    const { code, stderr } = spawnRank(root, 'demo.yaml');
    expect(stderr).toMatch(/question 'q2' has no retrieved chunks/);
    expect(code, stderr).toBe(0);
    const out = path.join(root, 'artifacts', 'demo', 'rank');
    const ranked = await readTable(path.join(out, 'ranked.arrow'), Ranked);
    expect(ranked.schema.metadata.get('ragrpo.vectors')).toBe('dense');
    expect(tableRows<{ chunk_id: string; pov_rank: number; in_context: boolean }>(ranked).map((r) => [r.chunk_id, r.pov_rank, r.in_context]))
      .toEqual([['b', 1, true], ['a', 2, false]]);
    expect((await readTable(path.join(out, 'pov_matrix.arrow'), PovMatrix)).numRows).toBe(4);
    const maps = readdirSync(path.join(out, 'heatmaps')).sort();
    expect(maps).toHaveLength(2);
    expect(maps[0]).toMatch(/^q_1-[0-9a-f]{8}\.png$/);
    expect(maps[1]).toBe(maps[0].replace('.png', '.svg'));
    expect(readFileSync(path.join(out, 'heatmaps', maps[1]), 'utf8')).toContain('Which wines suit fish?');
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    expect(html).toContain(`src="heatmaps/${maps[0]}"`);
    expect(html).toContain('A question nothing was retrieved for');
  });

  it('uses sparse vectors when rank.vectors says so', async () => {
    writeFileSync(path.join(root, 'demo.yaml'), PIPELINE + '  vectors: sparse\n  heatmap:\n    png: false\n');
    const { code, stderr } = await runRank(root, 'demo.yaml');
    expect(code, stderr).toBe(0);
    const out = path.join(root, 'artifacts', 'demo', 'rank');
    const ranked = tableRows<{ chunk_id: string }>(await readTable(path.join(out, 'ranked.arrow'), Ranked));
    expect(ranked.map((r) => r.chunk_id)).toEqual(['a', 'b']); // sparse: a shares term 0 with p1, b shares nothing
    expect(readdirSync(path.join(out, 'heatmaps')).every((f) => f.endsWith('.svg'))).toBe(true);
  });

  it('fails with one line pointing at ingest.povs when no POVs are configured', async () => {
    const { code, stderr } = await runRank(root, 'nopovs.yaml');
    expect(code).toBe(1);
    expect(stderr).toMatch(/add `ingest\.povs`/);
    expect(stderr).toMatch(/or set rank\.pov_weight: 0 to keep the retrieval order/);
    expect(existsSync(path.join(root, 'artifacts', 'nopovs', 'rank'))).toBe(false);
  });

  it('keeps the retrieval order without POVs when pov_weight is 0, and draws no heatmaps', async () => {
    // The demo's artifacts without any POV file (ingest writes none when the pipeline names no POVs).
    const from = path.join(root, 'artifacts', 'demo');
    const to = path.join(root, 'artifacts', 'retrieval-order');
    cpSync(from, to, { recursive: true, filter: (f) => !path.basename(f).startsWith('povs.') && path.relative(from, f).split(path.sep)[0] !== 'rank' });
    writeFileSync(path.join(root, 'retrieval-order.yaml'), PIPELINE.replace(/ {2}povs:\n.*\n/, '') + '  pov_weight: 0\n');
    const { code, stderr } = await runRank(root, 'retrieval-order.yaml');
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/questions in retrieval order \(no POVs, pov_weight 0, top 1 in context\)/);
    const out = path.join(to, 'rank');
    const ranked = tableRows<{ chunk_id: string; context_rank: number; similarity_rank: number; in_context: boolean; pov_score: number }>(await readTable(path.join(out, 'ranked.arrow'), Ranked));
    expect(ranked.map((r) => [r.chunk_id, r.context_rank, r.similarity_rank, r.in_context, r.pov_score])).toEqual([['a', 1, 1, true, 0], ['b', 2, 2, false, 0]]);
    expect((await readTable(path.join(out, 'pov_matrix.arrow'), PovMatrix)).numRows).toBe(0);
    expect(existsSync(path.join(out, 'heatmaps')) ? readdirSync(path.join(out, 'heatmaps')) : []).toEqual([]);
  });
});
