#!/usr/bin/env node
// `node stage-inputs.cjs <pipeline.yaml> <stage>` prints one digest of what a stage's cache key
// needs from the pipeline file: its own section (plus the seed) and the content of the data files
// and local model folders that section names (stage.json `files` and `models`). Nx runs it as a
// `runtime` input. It must not be part of the target's command or options: Nx hashes a project's
// whole configuration into every task of the project, so a digest there would re-run every stage
// on any edit.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parse } = require('yaml');
const { stageDigest } = require('../../config/src/stages/stage-digest.cjs');
const { hashPaths } = require('../../config/src/stages/hash-files.cjs');
const { loadDeclarations, valuesAt } = require('../../config/src/stages/declarations.cjs');

/** Files and folders a stage's section names. A model reference is hashed where it is found on disk, whatever its path. */
function stagePaths(decl, section, root) {
  if (!section || typeof section !== 'object') return [];
  const files = decl.files.flatMap((key) => valuesAt(section, key)).filter((v) => typeof v === 'string');
  const models = [];
  for (const key of decl.models) {
    const parent = key.split('.').slice(0, -1).join('.');
    const scope = parent ? valuesAt(section, parent)[0] : section;
    const modelsDir = (scope && scope.models_dir) || section.models_dir || 'models';
    for (const ref of valuesAt(section, key).filter((v) => typeof v === 'string')) {
      // A folder that exists (relative to the root, or absolute) is local; else a hub id under models_dir.
      models.push(fs.existsSync(path.resolve(root, ref)) ? ref : path.join(modelsDir, ref));
    }
  }
  return [...files, ...models];
}

function stageInputs(pipelineFile, stage, root, decls = loadDeclarations()) {
  let raw = {};
  try {
    raw = parse(fs.readFileSync(path.resolve(root, pipelineFile), 'utf8')) || {};
  } catch {
    // Unreadable or broken YAML: hash the bytes so any fix re-runs the stage, which reports the error.
    try { return `broken:${hashPaths([pipelineFile], root)}`; } catch { return 'missing'; }
  }
  const decl = decls.get(stage);
  const section = decl ? decl.section : stage;
  const files = decl ? stagePaths(decl, raw[section], root) : [];
  return `${stageDigest(raw, section)}:${files.length ? hashPaths(files, root) : 'no-data-files'}`;
}

if (require.main === module) {
  const [file, stage] = process.argv.slice(2);
  process.stdout.write(stageInputs(file, stage, process.cwd()) + '\n');
}

module.exports = { stageInputs, stagePaths };
