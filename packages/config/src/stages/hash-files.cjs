#!/usr/bin/env node
// Prints one digest of the named files and folders (recursively). Nx runs it as a `runtime`
// input: data files are often git-ignored or outside the workspace, where fileset inputs
// cannot see them. A missing path hashes as "missing" so the stage itself reports it.
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

function walk(p, out) {
  let st;
  try { st = fs.statSync(p); } catch { out.push([p, 'missing']); return; }
  if (st.isDirectory()) {
    for (const name of fs.readdirSync(p).sort()) walk(path.join(p, name), out);
  } else {
    out.push([p, createHash('sha256').update(fs.readFileSync(p)).digest('hex')]);
  }
}

function hashPaths(paths, root) {
  const entries = [];
  for (const p of paths) walk(path.resolve(root, p), entries);
  const h = createHash('sha256');
  for (const [p, d] of entries) h.update(`${path.relative(root, p)}\0${d}\n`);
  return h.digest('hex');
}

if (require.main === module) {
  process.stdout.write(hashPaths(process.argv.slice(2), process.cwd()) + '\n');
}

module.exports = { hashPaths };
