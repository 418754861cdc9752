'use strict';
const { createHash } = require('node:crypto');

/** JSON with sorted keys, so reordering keys in YAML does not change a digest. */
function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value === undefined ? null : value);
}

/**
 * The part of a pipeline file one stage depends on: its own section plus the global seed.
 * Like DVC's `params`, a stage's cache key changes only when these change; upstream changes
 * reach it through upstream outputs (dependentTasksOutputFiles) instead.
 */
function stageDigest(raw, stage) {
  const settings = { seed: raw.seed === undefined ? 0 : raw.seed, [stage]: raw[stage] === undefined ? null : raw[stage] };
  return createHash('sha256').update(canonicalJson(settings)).digest('hex').slice(0, 16);
}

module.exports = { canonicalJson, stageDigest };
