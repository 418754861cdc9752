'use strict';
// Nx plugin: each pipelines/<name>.yaml becomes project <name> whose targets are the stages
// (ingest -> embed -> index -> rank) plus `train`, which runs them all.
const path = require('node:path');
const { STAGES, SHARED_PACKAGES } = require('./stage-graph.cjs');

function stageTarget(pipelineFile, name, stage) {
  const sources = [stage.package, ...SHARED_PACKAGES, ...(stage.uses || [])]
    .map((p) => `{workspaceRoot}/packages/${p}/src/**/*`);
  const inputs = [
    ...sources,
    '{workspaceRoot}/package-lock.json',
    // This stage's own settings and the data files they name: one runtime digest, so that
    // editing `rank:` changes rank's key alone (see stage-inputs.cjs for why not the command).
    { runtime: `node packages/nx-plugin/src/stage-inputs.cjs ${pipelineFile} ${stage.name}` },
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
      command: `npx tsx packages/${stage.package}/src/cli.ts --pipeline ${pipelineFile}`,
    },
    metadata: { description: `${stage.name} stage of ${pipelineFile}`, technologies: ['ragrpo'] },
  };
}

function projectFor(pipelineFile) {
  const name = path.basename(pipelineFile).replace(/\.ya?ml$/, '');
  const targets = {};
  for (const stage of STAGES) targets[stage.name] = stageTarget(pipelineFile, name, stage);
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
  (files) => files.map((file) => [file, projectFor(file)]),
];

module.exports = { createNodes, createNodesV2: createNodes, projectFor };
