// Stage declarations: each stage package has a `stage.json` that says, once, which upstream
// artifacts the stage reads and which artifacts it writes. The Nx plugin derives the DAG, the
// cache inputs and the outputs from these files, and stage commands open their inputs through
// them, so an artifact's file name is written in exactly one place: the stage that writes it.
// Plain CommonJS so the Nx plugin can load it on Node 20 without a TypeScript transpiler.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const PACKAGES_DIR = path.resolve(__dirname, '..', '..', '..');

/**
 * stage.json:
 *   stage     the target name
 *   section   the pipeline section holding its settings (default: the stage name)
 *   presence  'always' (the stage runs with defaults when its section is absent) or
 *             'section' (the stage exists in a pipeline only when its section is there)
 *   uses      other packages whose source the command loads (engine, libraries): part of the hash
 *   env       environment variables that change the result: part of the hash
 *   files     keys of the stage's section naming data files or folders (a[].b walks arrays)
 *   models    keys naming a model: a local folder (hashed by content) or a hub id under models_dir
 *   reads     { name: { from: stage | [stage, ...], artifact?: name, optional?: bool } }
 *             `from` as a list takes the first stage present in the pipeline (sft, else policy)
 *   writes    { name: { file: 'x.arrow' | 'folder/', contract?: name } }
 */
function loadDeclarations(packagesDir = PACKAGES_DIR) {
  const out = new Map();
  for (const pkg of fs.readdirSync(packagesDir).sort()) {
    const file = path.join(packagesDir, pkg, 'stage.json');
    if (!fs.existsSync(file)) continue;
    const decl = JSON.parse(fs.readFileSync(file, 'utf8'));
    const problem = checkDeclaration(decl);
    if (problem) throw new Error(`${file}: ${problem}`);
    out.set(decl.stage, {
      presence: 'section', section: decl.stage, uses: [], env: [], files: [], models: [], reads: {}, writes: {},
      ...decl, package: pkg, file,
    });
  }
  for (const decl of out.values()) {
    for (const [name, read] of Object.entries(decl.reads)) {
      const froms = [].concat(read.from);
      // In a list, a stage no package declares is skipped (it may come later); one name must exist.
      const known = froms.filter((f) => out.has(f));
      if (known.length === 0) throw new Error(`${decl.file}: reads.${name} is from '${froms.join("' or '")}', which no package declares`);
      for (const from of known) {
        const upstream = out.get(from);
        if (!upstream.writes[read.artifact || name]) {
          throw new Error(`${decl.file}: reads.${name}: stage '${from}' writes no artifact '${read.artifact || name}' (it writes ${Object.keys(upstream.writes).join(', ')})`);
        }
      }
    }
  }
  return out;
}

function checkDeclaration(d) {
  if (!d || typeof d.stage !== 'string') return "needs a 'stage' name";
  if (d.presence && !['always', 'section'].includes(d.presence)) return "presence must be 'always' or 'section'";
  for (const [name, w] of Object.entries(d.writes || {})) if (!w || typeof w.file !== 'string') return `writes.${name} needs a 'file'`;
  for (const [name, r] of Object.entries(d.reads || {})) if (!r || !r.from) return `reads.${name} needs 'from'`;
  return null;
}

/** The stages a pipeline has: 'always' stages, and 'section' stages whose section is in the file. */
function stagesOf(decls, raw) {
  const present = [];
  for (const d of decls.values()) if (d.presence === 'always' || (raw && raw[d.section] !== undefined)) present.push(d.stage);
  return present;
}

/** Where a declared read comes from in this pipeline: { stage, artifact, file } or null (absent upstream). */
function resolveRead(decls, present, read, name) {
  const from = [].concat(read.from).find((s) => present.includes(s) && decls.has(s));
  if (!from) return null;
  const artifact = read.artifact || name;
  return { stage: from, artifact, file: decls.get(from).writes[artifact].file };
}

/** The upstream stages a stage reads from in this pipeline, and any required read whose stage is missing. */
function upstreamOf(decls, present, stage) {
  const decl = decls.get(stage);
  const needs = [];
  const missing = [];
  for (const [name, read] of Object.entries(decl.reads)) {
    const r = resolveRead(decls, present, read, name);
    if (r) { if (!needs.includes(r.stage)) needs.push(r.stage); } else if (!read.optional) missing.push({ name, from: [].concat(read.from) });
  }
  return { needs, missing };
}

/** Every stage that (transitively) reads from `stage` in this pipeline. */
function downstreamOf(decls, present, stage) {
  const down = new Set();
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of present) {
      if (down.has(s) || s === stage) continue;
      const { needs } = upstreamOf(decls, present, s);
      if (needs.some((n) => n === stage || down.has(n))) { down.add(s); grew = true; }
    }
  }
  return [...down];
}

/** Values at a dotted key of a section; `a[].b` maps over an array, `a.*.b` over a map's values. */
function valuesAt(section, key) {
  let values = [section];
  for (const part of key.split('.')) {
    if (part === '*') { values = values.flatMap((v) => (v && typeof v === 'object' ? Object.values(v) : [])); continue; }
    const isArray = part.endsWith('[]');
    const k = isArray ? part.slice(0, -2) : part;
    values = values.flatMap((v) => {
      const next = v && typeof v === 'object' ? v[k] : undefined;
      if (next === undefined || next === null) return [];
      return isArray ? (Array.isArray(next) ? next : []) : [next];
    });
  }
  return values;
}

module.exports = { PACKAGES_DIR, loadDeclarations, stagesOf, resolveRead, upstreamOf, downstreamOf, valuesAt };
