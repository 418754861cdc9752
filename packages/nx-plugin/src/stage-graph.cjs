// The stage DAG and what each stage's cache key covers. Plain CommonJS so Nx can load the
// plugin on Node 20 without a TypeScript transpiler.
'use strict';

/**
 * Stages in order, the stages each one needs, the package whose command it runs, and the
 * engine packages that command loads (`uses`): their source is part of that stage's hash only.
 */
const STAGES = [
  { name: 'ingest', needs: [], package: 'ingest' },
  { name: 'embed', needs: ['ingest'], package: 'embed' },
  { name: 'index', needs: ['embed'], package: 'index', env: ['QDRANT_URL', 'QDRANT_API_KEY'] },
  { name: 'rank', needs: ['index'], package: 'rank' },
];

/** Shared packages every stage command loads. */
const SHARED_PACKAGES = ['contracts', 'config', 'progress'];


/** Files a stage reads that the pipeline names: their content keys the cache (they may be git-ignored or outside the repo). */
function dataFiles(raw, stage) {
  const section = raw && raw[stage];
  if (!section || typeof section !== 'object') return [];
  const files = [];
  if (stage === 'ingest') {
    for (const d of section.documents || []) if (d && d.path) files.push(d.path);
    for (const key of ['questions', 'povs', 'preferences']) if (section[key] && section[key].path) files.push(section[key].path);
  }
  if (stage === 'embed') {
    if (section.dense && section.dense.model && isLocalPath(section.dense.model)) files.push(section.dense.model);
    if (section.sparse && section.sparse.stopwords) files.push(section.sparse.stopwords);
  }
  return files;
}

function isLocalPath(p) {
  return p.startsWith('.') || p.startsWith('/') || p.startsWith('models/');
}

module.exports = { STAGES, SHARED_PACKAGES, dataFiles, isLocalPath };
