#!/usr/bin/env node
// `node stage-inputs.cjs <pipeline.yaml> <stage>` prints one digest of what a stage's cache key
// needs from the pipeline file: its own section (plus the seed) and the content of the data files
// that section names. Nx runs it as a `runtime` input. It must not be part of the target's command
// or options: Nx hashes a project's whole configuration into every task of the project, so a
// digest there would re-run every stage on any edit.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parse } = require('yaml');
const { stageDigest } = require('./stage-digest.cjs');
const { dataFiles } = require('./stage-graph.cjs');
const { hashPaths } = require('./hash-files.cjs');

function stageInputs(pipelineFile, stage, root) {
  let raw = {};
  try {
    raw = parse(fs.readFileSync(path.resolve(root, pipelineFile), 'utf8')) || {};
  } catch {
    // Unreadable or broken YAML: hash the bytes so any fix re-runs the stage, which reports the error.
    try { return `broken:${hashPaths([pipelineFile], root)}`; } catch { return 'missing'; }
  }
  const files = dataFiles(raw, stage);
  return `${stageDigest(raw, stage)}:${files.length ? hashPaths(files, root) : 'no-data-files'}`;
}

if (require.main === module) {
  const [file, stage] = process.argv.slice(2);
  process.stdout.write(stageInputs(file, stage, process.cwd()) + '\n');
}

module.exports = { stageInputs };
