'use strict';
// Nx plugin: each pipelines/<name>.yaml becomes project <name> whose targets are the stages
// (ingest -> embed -> index -> rank) plus `train`, which runs them all.
const fs = require('node:fs');
const path = require('node:path');
const { parse } = require('yaml');
const { STAGES, SHARED_PACKAGES, dataFiles } = require('./stage-graph.cjs');
const { stageDigest } = require('./stage-digest.cjs');

const HASHER = 'node packages/nx-plugin/src/hash-files.cjs';

function readRaw(file) {
  try {
    const raw = parse(fs.readFileSync(file, 'utf8'));
    return raw && typeof raw === 'object' ? raw : {};
  } catch {
    // A broken file still gets its targets: the stage command reports the error with line and key.
    return {};
  }
}

function stageTarget(pipelineFile, name, stage, raw) {
  const sources = [stage.package, ...SHARED_PACKAGES, ...(stage.uses || [])]
    .map((p) => `{workspaceRoot}/packages/${p}/src/**/*`);
  const files = dataFiles(raw, stage.name);
  const inputs = [
    ...sources,
    '{workspaceRoot}/package-lock.json',
    ...(files.length ? [{ runtime: `${HASHER} ${files.map((f) => JSON.stringify(f)).join(' ')}` }] : []),
    ...(stage.env || []).map((env) => ({ env })),
    // Upstream artifacts are git-ignored, so fileset inputs cannot see them.
    ...(stage.needs.length ? [{ dependentTasksOutputFiles: '**/*', transitive: true }] : []),
  ];
  return {
    executor: 'nx:run-commands',
    cache: true,
    dependsOn: stage.needs,
    inputs,
    outputs: [`{workspaceRoot}/artifacts/${name}/${stage.name}`],
    options: {
      // The digest of this stage's own settings keys the cache: editing `rank:` re-runs rank alone.
      command: `npx tsx packages/${stage.package}/src/cli.ts --pipeline ${pipelineFile} --digest ${stageDigest(raw, stage.name)}`,
    },
    metadata: { description: `${stage.name} stage of ${pipelineFile}`, technologies: ['ragrpo'] },
  };
}

function projectFor(pipelineFile, workspaceRoot) {
  const name = path.basename(pipelineFile).replace(/\.ya?ml$/, '');
  const raw = readRaw(path.join(workspaceRoot, pipelineFile));
  const targets = {};
  for (const stage of STAGES) targets[stage.name] = stageTarget(pipelineFile, name, stage, raw);
  targets.train = {
    executor: 'nx:noop',
    dependsOn: [STAGES[STAGES.length - 1].name],
    // Nothing of its own to hash: the project root is the pipeline file, not a folder.
    inputs: [],
    cache: false,
    metadata: { description: `runs every stage of ${pipelineFile}` },
  };
  return {
    projects: {
      [pipelineFile]: { name, tags: ['type:pipeline'], targets },
    },
  };
}

const createNodes = [
  'pipelines/*.{yaml,yml}',
  (files, _options, context) => files.map((file) => [file, projectFor(file, context.workspaceRoot)]),
];

module.exports = { createNodes, createNodesV2: createNodes, projectFor };
