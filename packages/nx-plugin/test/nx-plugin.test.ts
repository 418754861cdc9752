import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestPaths as hashPaths, stageDigest } from '@ragrpo/config';

const require = createRequire(import.meta.url);
const { projectFor } = require('../src/index.cjs');
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
  it('turns a pipeline file into a project whose DAG is the stages\' declared reads', async () => {
    const root = await workspace(yaml);
    const { projects } = projectFor('pipelines/demo.yaml', root);
    expect(Object.keys(projects)).toEqual(['pipelines/demo.yaml']);
    const project = projects['pipelines/demo.yaml'];
    expect(project.name).toBe('demo');
    expect(Object.keys(project.targets).sort()).toEqual([...stages, 'train'].sort());
    // edges come from packages/<stage>/stage.json reads, not from a chain
    expect(project.targets.embed.dependsOn).toEqual(['ingest']);
    expect(project.targets.index.dependsOn.sort()).toEqual(['embed', 'ingest']);
    expect(project.targets.rank.dependsOn.sort()).toEqual(['embed', 'index', 'ingest']);
    expect(project.targets.train.dependsOn.sort()).toEqual([...stages].sort());
    expect(project.targets.rank.outputs).toContain('{workspaceRoot}/artifacts/demo/rank/ranked.arrow');
    expect(project.targets.rank.outputs).toContain('{workspaceRoot}/artifacts/demo/rank/heatmaps');
    // upstream artifacts are git-ignored: each read comes in as exactly the upstream file it names
    expect(project.targets.rank.inputs).toContainEqual({ dependentTasksOutputFiles: 'artifacts/demo/index/retrieved.arrow' });
    expect(project.targets.rank.inputs).not.toContainEqual({ dependentTasksOutputFiles: 'artifacts/demo/ingest/chunks.arrow' });
    expect(project.targets.index.inputs).toContainEqual({ dependentTasksOutputFiles: 'artifacts/demo/ingest/chunks.arrow' });
    expect(project.targets.ingest.inputs).not.toContainEqual(expect.objectContaining({ dependentTasksOutputFiles: expect.anything() }));
    expect(project.targets.ingest.inputs).toContainEqual({ runtime: 'node packages/nx-plugin/src/stage-inputs.cjs pipelines/demo.yaml ingest' });
    expect(project.targets.index.inputs).toContainEqual({ env: 'QDRANT_URL' });
    // a fully cached run reports every task from the cache, train included
    expect(project.targets.train.cache).toBe(true);
  });

  it('keeps the project configuration independent of the settings (Nx hashes all of it into every task)', async () => {
    const a = await workspace(yaml);
    const b = await workspace(yaml.replace('top_n: 3', 'top_n: 4'));
    const config = JSON.stringify(projectFor('pipelines/demo.yaml', a));
    expect(config).not.toMatch(/top_n|digest/);
    expect(JSON.stringify(projectFor('pipelines/demo.yaml', b))).toBe(config);
  });

  it('adds a learning stage only when the pipeline has its section', async () => {
    const without = projectFor('pipelines/demo.yaml', await workspace(yaml)).projects['pipelines/demo.yaml'];
    expect(without.targets.policy).toBeUndefined();
    const root = await workspace(`${yaml}policy:\n  scratch: {}\n`);
    const withPolicy = projectFor('pipelines/demo.yaml', root).projects['pipelines/demo.yaml'];
    expect(withPolicy.targets.policy.dependsOn).toEqual(['ingest']);
    expect(withPolicy.targets.train.dependsOn).toContain('policy');
  });

  it('hashes a local model folder whatever its path, and a hub id under models_dir', async () => {
    const root = await workspace(yaml.replace('models/tiny-embedder', 'weights/my-embedder'));
    await mkdir(path.join(root, 'weights', 'my-embedder'), { recursive: true });
    await writeFile(path.join(root, 'weights', 'my-embedder', 'config.json'), '{"a":1}');
    const before = stageInputs('pipelines/demo.yaml', 'embed', root);
    await writeFile(path.join(root, 'weights', 'my-embedder', 'config.json'), '{"a":2}');
    expect(stageInputs('pipelines/demo.yaml', 'embed', root)).not.toBe(before);
    const hub = await workspace(yaml.replace('models/tiny-embedder', 'org/hub-model'));
    await mkdir(path.join(hub, 'models', 'org', 'hub-model'), { recursive: true });
    await writeFile(path.join(hub, 'models', 'org', 'hub-model', 'config.json'), '{"a":1}');
    const hubBefore = stageInputs('pipelines/demo.yaml', 'embed', hub);
    await writeFile(path.join(hub, 'models', 'org', 'hub-model', 'config.json'), '{"a":3}');
    expect(stageInputs('pipelines/demo.yaml', 'embed', hub)).not.toBe(hubBefore);
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
