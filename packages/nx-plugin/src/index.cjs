'use strict';
// Nx plugin: each pipelines/<name>.yaml becomes project <name> whose targets are the stages the
// pipeline has, plus `train`, which runs them all. Everything about a stage (what it reads, what
// it writes, which packages and environment variables it depends on) comes from its package's
// stage.json: the DAG edges are its reads, the cache inputs its reads' files, the outputs its writes.
const fs = require('node:fs');
const path = require('node:path');
const { parse } = require('yaml');
const { loadDeclarations, stagesOf, resolveRead, upstreamOf } = require('../../config/src/stages/declarations.cjs');

/** Shared packages every stage command loads. */
const SHARED_PACKAGES = ['contracts', 'config', 'progress'];

function stageTarget(decls, present, pipelineFile, name, decl) {
  const sources = [decl.package, ...SHARED_PACKAGES, ...decl.uses].map((p) => `{workspaceRoot}/packages/${p}/src/**/*`);
  // Upstream artifacts are git-ignored, so fileset inputs cannot see them: each declared read
  // hashes exactly the upstream files it names (an upstream stage's other files never re-run this one).
  const reads = [];
  for (const [readName, read] of Object.entries(decl.reads)) {
    const r = resolveRead(decls, present, read, readName);
    if (!r) continue;
    const file = `artifacts/${name}/${r.stage}/${r.file}`;
    reads.push({ dependentTasksOutputFiles: file.endsWith('/') ? `${file}**/*` : file });
  }
  const inputs = [
    ...sources,
    `{workspaceRoot}/packages/${decl.package}/stage.json`,
    '{workspaceRoot}/package-lock.json',
    // This stage's own settings and the data files and model folders they name: one runtime digest,
    // so that editing `rank:` changes rank's key alone (see stage-inputs.cjs for why not the command).
    { runtime: `node packages/nx-plugin/src/stage-inputs.cjs ${pipelineFile} ${decl.stage}` },
    ...decl.env.map((env) => ({ env })),
    ...reads,
  ];
  return {
    executor: 'nx:run-commands',
    cache: true,
    dependsOn: upstreamOf(decls, present, decl.stage).needs,
    inputs,
    outputs: Object.values(decl.writes).map((w) => `{workspaceRoot}/artifacts/${name}/${decl.stage}/${w.file.replace(/\/$/, '')}`),
    options: {
      command: `npx tsx packages/${decl.package}/src/cli.ts --pipeline ${pipelineFile}`,
    },
    metadata: { description: `${decl.description || decl.stage} (${pipelineFile})`, technologies: ['ragrpo'] },
  };
}

/** Which optional sections the file has decides which stages exist; their values never reach the project configuration. */
function presentSections(pipelineFile, root) {
  try {
    const raw = parse(fs.readFileSync(path.resolve(root, pipelineFile), 'utf8'));
    return raw && typeof raw === 'object' ? raw : {};
  } catch {
    return {};
  }
}

function projectFor(pipelineFile, root = process.cwd(), decls = loadDeclarations()) {
  const name = path.basename(pipelineFile).replace(/\.ya?ml$/, '');
  const raw = presentSections(pipelineFile, root);
  const present = stagesOf(decls, raw);
  const targets = {};
  for (const stage of present) targets[stage] = stageTarget(decls, present, pipelineFile, name, decls.get(stage));
  targets.train = {
    executor: 'nx:noop',
    dependsOn: present,
    // Nothing of its own to hash or write: cached so that a fully cached run reports every task from cache.
    inputs: [],
    outputs: [],
    cache: true,
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
  (files, _options, context) => files.map((file) => [file, projectFor(file, context && context.workspaceRoot)]),
];

module.exports = { createNodes, createNodesV2: createNodes, projectFor, SHARED_PACKAGES };
