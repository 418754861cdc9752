import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { projectFor } = require('../src/index.cjs');
const { stageDigest } = require('../src/stage-digest.cjs');
const { hashPaths } = require('../src/hash-files.cjs');
const { stageInputs } = require('../src/stage-inputs.cjs');

const yaml = `seed: 1
ingest:
  documents: [{ kind: pdf, path: data/paper.pdf }]
  questions: { path: data/q.jsonl }
embed:
  dense: { model: models/tiny-embedder }
rank:
  top_n: 3
`;

async function workspace(text: string) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'nxplugin-'));
  await mkdir(path.join(root, 'pipelines'));
  await mkdir(path.join(root, 'data'));
  await writeFile(path.join(root, 'data', 'paper.pdf'), 'pdf bytes');
  await writeFile(path.join(root, 'data', 'q.jsonl'), '{"question":"q"}\n');
  await writeFile(path.join(root, 'pipelines', 'demo.yaml'), text);
  return root;
}

const stages = ['ingest', 'embed', 'index', 'rank'];

describe('nx plugin', () => {
  it('turns a pipeline file into a project with one cached target per stage and train', () => {
    const { projects } = projectFor('pipelines/demo.yaml');
    expect(Object.keys(projects)).toEqual(['pipelines/demo.yaml']);
    const project = projects['pipelines/demo.yaml'];
    expect(project.name).toBe('demo');
    expect(Object.keys(project.targets)).toEqual([...stages, 'train']);
    expect(project.targets.embed.dependsOn).toEqual(['ingest']);
    expect(project.targets.train.dependsOn).toEqual(['rank']);
    expect(project.targets.rank.outputs).toEqual(['{workspaceRoot}/artifacts/demo/rank']);
    // upstream artifacts are git-ignored, so they must come in through dependentTasksOutputFiles
    expect(project.targets.rank.inputs).toContainEqual({ dependentTasksOutputFiles: '**/*', transitive: true });
    expect(project.targets.ingest.inputs).not.toContainEqual(expect.objectContaining({ dependentTasksOutputFiles: expect.anything() }));
    expect(project.targets.ingest.inputs).toContainEqual({ runtime: 'node packages/nx-plugin/src/stage-inputs.cjs pipelines/demo.yaml ingest' });
    expect(project.targets.index.inputs).toContainEqual({ env: 'QDRANT_URL' });
  });

  it('keeps the project configuration independent of the settings (Nx hashes all of it into every task)', () => {
    // projectFor reads nothing from the file: editing any section leaves every target as it was
    expect(JSON.stringify(projectFor('pipelines/demo.yaml'))).not.toMatch(/top_n|digest/);
  });

  it('changes only the edited stage\'s runtime input when one section changes', async () => {
    const a = await workspace(yaml);
    const b = await workspace(yaml.replace('top_n: 3', 'top_n: 4'));
    for (const stage of ['ingest', 'embed', 'index']) {
      expect(stageInputs('pipelines/demo.yaml', stage, b)).toBe(stageInputs('pipelines/demo.yaml', stage, a));
    }
    expect(stageInputs('pipelines/demo.yaml', 'rank', b)).not.toBe(stageInputs('pipelines/demo.yaml', 'rank', a));
  });

  it('changes a stage\'s runtime input when a data file it names changes', async () => {
    const root = await workspace(yaml);
    const before = stages.map((s) => stageInputs('pipelines/demo.yaml', s, root));
    await writeFile(path.join(root, 'data', 'paper.pdf'), 'other pdf bytes');
    const after = stages.map((s) => stageInputs('pipelines/demo.yaml', s, root));
    expect(after[0]).not.toBe(before[0]);
    expect(after.slice(1)).toEqual(before.slice(1));
  });

  it('digests settings independently of key order, and the seed reaches every stage', () => {
    const one = { seed: 1, rank: { top_n: 3, heatmap: { svg: true, png: false } } };
    const reordered = { rank: { heatmap: { png: false, svg: true }, top_n: 3 }, seed: 1 };
    expect(stageDigest(one, 'rank')).toBe(stageDigest(reordered, 'rank'));
    expect(stageDigest({ ...one, seed: 2 }, 'rank')).not.toBe(stageDigest(one, 'rank'));
    expect(stageDigest({ ...one, ingest: { x: 1 } }, 'rank')).toBe(stageDigest(one, 'rank'));
  });

  it('hashes a broken pipeline file by its bytes so fixing it re-runs the stage', async () => {
    const root = await workspace('ingest: [\n');
    const broken = stageInputs('pipelines/demo.yaml', 'ingest', root);
    expect(broken).toMatch(/^broken:/);
    await writeFile(path.join(root, 'pipelines', 'demo.yaml'), 'ingest: [ ]\n');
    expect(stageInputs('pipelines/demo.yaml', 'ingest', root)).not.toBe(broken);
  });

  it('hashes file contents, including files outside the workspace and missing ones', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'hash-'));
    await mkdir(path.join(root, 'd'));
    await writeFile(path.join(root, 'd', 'a.txt'), 'one');
    const first = hashPaths(['d', 'nope.csv'], root);
    expect(hashPaths(['d', 'nope.csv'], root)).toBe(first);
    await writeFile(path.join(root, 'd', 'a.txt'), 'two');
    expect(hashPaths(['d', 'nope.csv'], root)).not.toBe(first);
  });
});
