import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Chunks, DenseVectors, Povs, Questions, SparseVectors, readTable, tableFromRows, tableRows, vectorColumn, writeTable } from '@ragrpo/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { bm25FromModel, bm25QueryVector, parseBm25, sparseDot, type SparseVector } from '../src/index.ts';
import { buildTinyModel } from './tiny-model.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const CLI = path.join(repoRoot, 'packages/embed/src/cli.ts');
const TSX = path.join(repoRoot, 'node_modules/.bin/tsx');

const CHUNKS = [
  'Ripe cherry and plum with firm tannins and oak.',
  'Crisp Riesling from the Mosel with green apple and lemon.',
  'A sweet dessert wine with honey and apricot.',
];

function pipelineYaml(embed: string): string {
  return `ingest:\n  documents:\n    - kind: text\n      path: docs\nembed:\n${embed}`;
}

async function stage(root: string, name: string, embed: string) {
  writeFileSync(path.join(root, 'pipelines', `${name}.yaml`), pipelineYaml(embed));
  const ingest = path.join(root, 'artifacts', name, 'ingest');
  mkdirSync(ingest, { recursive: true });
  await writeTable(path.join(ingest, 'chunks.arrow'), Chunks, tableFromRows(Chunks, CHUNKS.map((text, i) => ({
    chunk_id: `c${i}`, doc_id: `d${i}`, source: 'docs', text, start_index: 0, chunk_index: 0, page: null, metadata: '{}',
  }))));
  await writeTable(path.join(ingest, 'questions.arrow'), Questions, tableFromRows(Questions, [
    { question_id: 'q0', question: 'Which wine tastes of green apple?', reference: null, split: 'train', gold_chunk_ids: ['c1'], source: 'q.jsonl' },
  ]));
  await writeTable(path.join(ingest, 'povs.arrow'), Povs, tableFromRows(Povs, [
    { pov_id: 'p0', text: 'Sweet wine with honey', source: 'items' },
    { pov_id: 'p1', text: 'Firm tannins', source: 'items' },
  ]));
  return run(TSX, [CLI, '--pipeline', `pipelines/${name}.yaml`], {
    cwd: root, env: { ...process.env, NX_WORKSPACE_ROOT: root, RAGRPO_ARTIFACTS: 'artifacts', CI: '1' },
  }).then((r) => ({ ...r, code: 0 }), (e: { stdout: string; stderr: string; code: number }) => e);
}

let root: string;
beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'embed-cli-'));
  mkdirSync(path.join(root, 'pipelines'));
  await buildTinyModel(path.join(root, 'models', 'tiny-embedder'));
});

describe('embed stage command', () => {
  it('writes sparse and dense artifacts for chunks, questions and POVs', async () => {
    const r = await stage(root, 'both', '  sparse:\n    language: english\n  dense:\n    model: models/tiny-embedder\n    batch_size: 2\n');
    expect(r.code, r.stderr).toBe(0);
    const out = path.join(root, 'artifacts', 'both', 'embed');
    expect(readdirSync(out).sort()).toEqual([
      'bm25.json', 'chunks.dense.arrow', 'chunks.sparse.arrow', 'povs.dense.arrow', 'povs.sparse.arrow',
      'questions.dense.arrow', 'questions.sparse.arrow',
    ]);
    const bm = bm25FromModel(parseBm25(readFileSync(path.join(out, 'bm25.json'), 'utf8'), 'bm25.json'));
    expect(bm.model.N).toBe(3);
    const chunks = await readTable(path.join(out, 'chunks.sparse.arrow'), SparseVectors);
    const questions = await readTable(path.join(out, 'questions.sparse.arrow'), SparseVectors);
    expect(chunks.schema.metadata.get('ragrpo.role')).toBe('document');
    expect(questions.schema.metadata.get('ragrpo.role')).toBe('query');
    type Row = { id: string; indices: Int32Array; values: Float32Array };
    const docRows = tableRows<Row>(chunks);
    const [q] = tableRows<Row>(questions);
    // The stored query vector equals one rebuilt from bm25.json, and ranks the apple chunk first.
    expect(Array.from(q.indices)).toEqual(Array.from(bm25QueryVector(bm, 'Which wine tastes of green apple?').indices));
    const scores = docRows.map((d) => sparseDot(q as SparseVector, d as SparseVector));
    expect(docRows[scores.indexOf(Math.max(...scores))].id).toBe('c1');

    const dense = await readTable(path.join(out, 'povs.dense.arrow'), DenseVectors);
    expect(Object.fromEntries(dense.schema.metadata)).toMatchObject({ 'ragrpo.role': 'query', 'ragrpo.dim': '32', 'ragrpo.model': 'models/tiny-embedder' });
    expect(vectorColumn(dense)).toMatchObject({ dim: 32, rows: 2 });
    expect(r.stderr).toMatch(/embedded 3 chunks, 1 questions, 2 povs: bm25 over 3 chunks/);
  });

  it('fails with one line naming the model folder and leaves no stage output', async () => {
    const r = await stage(root, 'missing', '  dense:\n    model: models/absent\n');
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('npm warn'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(path.join(root, 'models', 'absent'));
    expect(lines[0]).toContain('embed.dense.allow_remote: true');
    expect(existsSync(path.join(root, 'artifacts', 'missing', 'embed'))).toBe(false);
  });
});
