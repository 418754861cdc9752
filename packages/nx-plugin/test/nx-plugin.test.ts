import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { projectFor } = require('../src/index.cjs');
const { stageDigest } = require('../src/stage-digest.cjs');
const { hashPaths } = require('../src/hash-files.cjs');

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
  await writeFile(path.join(root, 'pipelines', 'demo.yaml'), text);
  return root;
}

describe('nx plugin', () => {
  it('turns a pipeline file into a project with one cached target per stage and train', async () => {
    const root = await workspace(yaml);
    const { projects } = projectFor('pipelines/demo.yaml', root);
    const project = projects['pipelines/demo.yaml'];
    expect(project.name).toBe('demo');
    expect(Object.keys(projects)).toEqual(['pipelines/demo.yaml']);
    expect(Object.keys(project.targets)).toEqual(['ingest', 'embed', 'index', 'rank', 'train']);
    expect(project.targets.embed.dependsOn).toEqual(['ingest']);
    expect(project.targets.train.dependsOn).toEqual(['rank']);
    expect(project.targets.rank.outputs).toEqual(['{workspaceRoot}/artifacts/demo/rank']);
    // upstream artifacts are git-ignored, so they must come in through dependentTasksOutputFiles
    expect(project.targets.rank.inputs).toContainEqual({ dependentTasksOutputFiles: '**/*', transitive: true });
    expect(project.targets.ingest.inputs).not.toContainEqual(expect.objectContaining({ dependentTasksOutputFiles: expect.anything() }));
    // the data files a stage reads key its cache through a runtime hash
    expect(project.targets.ingest.inputs).toContainEqual({ runtime: 'node packages/nx-plugin/src/hash-files.cjs "data/paper.pdf" "data/q.jsonl"' });
    expect(project.targets.embed.inputs).toContainEqual({ runtime: 'node packages/nx-plugin/src/hash-files.cjs "models/tiny-embedder"' });
    expect(project.targets.index.inputs).toContainEqual({ env: 'QDRANT_URL' });
  });

  it('changes only the edited stage\'s command when one section changes', async () => {
    const a = projectFor('pipelines/demo.yaml', await workspace(yaml)).projects['pipelines/demo.yaml'].targets;
    const b = projectFor('pipelines/demo.yaml', await workspace(yaml.replace('top_n: 3', 'top_n: 4'))).projects['pipelines/demo.yaml'].targets;
    for (const stage of ['ingest', 'embed', 'index']) expect(b[stage].options.command).toBe(a[stage].options.command);
    expect(b.rank.options.command).not.toBe(a.rank.options.command);
  });

  it('digests settings independently of key order, and the seed reaches every stage', () => {
    const one = { seed: 1, rank: { top_n: 3, heatmap: { svg: true, png: false } } };
    const reordered = { rank: { heatmap: { png: false, svg: true }, top_n: 3 }, seed: 1 };
    expect(stageDigest(one, 'rank')).toBe(stageDigest(reordered, 'rank'));
    expect(stageDigest({ ...one, seed: 2 }, 'rank')).not.toBe(stageDigest(one, 'rank'));
    expect(stageDigest({ ...one, ingest: { x: 1 } }, 'rank')).toBe(stageDigest(one, 'rank'));
  });

  it('still creates targets for a broken file so the stage can report the error', async () => {
    const { projects } = projectFor('pipelines/demo.yaml', await workspace('ingest: [\n'));
    expect(Object.keys(projects['pipelines/demo.yaml'].targets)).toContain('train');
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
