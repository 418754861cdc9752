import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchCommandFor, missingModelMessage, missingModels, stageDeclarations } from '../src/index.ts';

// The pre-flight model check: a pipeline's models are found the way its stages find them (a path,
// else <models_dir>/<hub id>), and the first one missing is named with the ways to fix it.
const root = mkdtempSync(path.join(os.tmpdir(), 'ragrpo-model-check-'));
mkdirSync(path.join(root, 'models', 'org', 'present'), { recursive: true });
mkdirSync(path.join(root, 'local-embedder'));
writeFileSync(path.join(root, 'model.gguf'), 'GGUF');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const decls = stageDeclarations();
const present = ['ingest', 'embed', 'index', 'rank', 'policy', 'reward'];

describe('missingModels', () => {
  it('accepts a local folder, a hub id under models_dir and an existing GGUF file', () => {
    expect(missingModels(decls, present, {
      embed: { dense: { model: 'local-embedder', models_dir: 'models', allow_remote: false } },
      policy: { model: 'org/present', models_dir: 'models', allow_remote: false },
    }, root)).toEqual([]);
    expect(missingModels(decls, ['policy'], { policy: { gguf: 'model.gguf', models_dir: 'models' } }, root)).toEqual([]);
  });

  it('names each missing reference with where it was looked for and the download switch of its section', () => {
    const missing = missingModels(decls, present, {
      embed: { dense: { model: 'models/all-minilm-l6-v2', models_dir: 'models', allow_remote: false } },
      policy: { model: 'Qwen/Qwen2.5-0.5B-Instruct', models_dir: 'hub', allow_remote: false },
      reward: { options: { judge: { model: './judge' } } },
    }, root);
    expect(missing).toEqual([
      { stage: 'embed', setting: 'embed.dense.model', ref: 'models/all-minilm-l6-v2', lookedAt: path.join(root, 'models', 'all-minilm-l6-v2'), allowRemote: 'embed.dense.allow_remote' },
      { stage: 'policy', setting: 'policy.model', ref: 'Qwen/Qwen2.5-0.5B-Instruct', lookedAt: path.join(root, 'hub', 'Qwen', 'Qwen2.5-0.5B-Instruct'), allowRemote: 'policy.allow_remote' },
      { stage: 'reward', setting: 'reward.options.judge.model', ref: './judge', lookedAt: path.join(root, 'judge'), allowRemote: undefined },
    ]);
  });

  it('skips a section that may download, and stages that are not in the pipeline', () => {
    expect(missingModels(decls, present, { policy: { model: 'Qwen/Qwen2.5-0.5B-Instruct', allow_remote: true } }, root)).toEqual([]);
    expect(missingModels(decls, ['ingest'], { policy: { model: 'Qwen/Qwen2.5-0.5B-Instruct' } }, root)).toEqual([]);
  });
});

describe('missingModelMessage', () => {
  it('points a real checkpoint the project can build at tools/models/fetch.ts', () => {
    const m = missingModels(decls, ['embed'], { embed: { dense: { model: 'models/all-minilm-l6-v2', allow_remote: false } } }, root);
    expect(missingModelMessage('pipelines/x.yaml', m)).toBe(
      `pipelines/x.yaml: embed.dense.model 'models/all-minilm-l6-v2' is not on this machine (nothing at ${path.join(root, 'models', 'all-minilm-l6-v2')}) ` +
      "and offline runs never download; build it with 'npx tsx tools/models/fetch.ts all-minilm-l6-v2', point embed.dense.model at a local folder " +
      'or set embed.dense.allow_remote: true with network access. Checked before any stage runs',
    );
  });

  it('asks for the folder itself otherwise', () => {
    const m = missingModels(decls, ['reward'], { reward: { options: { judge: { model: './judge' } } } }, root);
    expect(missingModelMessage('p.yaml', m)).toContain(`put the model folder at ${path.join(root, 'judge')} or point reward.options.judge.model at a local folder.`);
  });

  it('names every other missing model after the first', () => {
    const m = missingModels(decls, ['embed', 'policy'], {
      embed: { dense: { model: './e', allow_remote: false } }, policy: { model: 'Qwen/Qwen2.5-0.5B-Instruct', models_dir: 'models', allow_remote: false },
    }, root);
    expect(missingModelMessage('p.yaml', m)).toMatch(
      new RegExp(`; also missing: policy\\.model \\(${path.join(root, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct').replace(/[.]/g, '\\.')}\\)\\. Checked before any stage runs$`),
    );
  });
});

describe('fetchCommandFor', () => {
  it('knows the two checkpoints by folder name and hub id, case-insensitively', () => {
    expect(fetchCommandFor('sentence-transformers/all-MiniLM-L6-v2')).toBe('npx tsx tools/models/fetch.ts all-minilm-l6-v2');
    expect(fetchCommandFor('models/smollm2-135m-instruct/')).toBe('npx tsx tools/models/fetch.ts smollm2-135m-instruct');
    expect(fetchCommandFor('HuggingFaceTB/SmolLM2-135M-Instruct')).toBe('npx tsx tools/models/fetch.ts smollm2-135m-instruct');
    expect(fetchCommandFor('Qwen/Qwen2.5-0.5B-Instruct')).toBeUndefined();
  });
});
