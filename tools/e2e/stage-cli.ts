import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { parse, stringify } from 'yaml';
import { stageDeclarations, stagesOf, upstreamOf } from '@ragrpo/config';

// Running one stage command as Nx does (cwd = repository) with its artifacts in a test's own folder,
// and the check every bad-input case makes of what it printed.
export const root = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

export interface StageRun { status: number | null; stderr: string }

export function runStage(name: string, pipeline: string, artifacts: string): StageRun {
  const r = spawnSync(tsx, [`packages/${name}/src/cli.ts`, '--pipeline', pipeline], {
    cwd: root, env: { ...process.env, RAGRPO_ARTIFACTS: artifacts, RAGRPO_DEBUG: '', CI: '1' }, encoding: 'utf8',
  });
  return { status: r.status, stderr: r.stderr };
}

/** The one error line (progress lines may precede it on stderr, but no second error and no stack). */
export function expectOneError(r: StageRun, stageName: string): string {
  expect(r.status).not.toBe(0);
  const lines = r.stderr.split('\n').filter((l) => l.trim());
  const errors = lines.filter((l) => /error/i.test(l));
  expect(errors, r.stderr).toHaveLength(1);
  expect(lines.some((l) => /^\s+at /.test(l)), r.stderr).toBe(false);
  expect(errors[0].startsWith(`[${stageName}] error: `)).toBe(true);
  return errors[0];
}

/**
 * A bad-input case: its own folder under `tmp` with a pipeline file of the good run's name (so the
 * artifacts' pipeline folder matches) and a copy of the good run's artifacts to fail on.
 */
export function copyCase(tmp: string, name: string, pipelineFile: string, text: string, goodArtifacts: string) {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const pipeline = path.join(dir, pipelineFile);
  writeFileSync(pipeline, text);
  const artifacts = path.join(dir, 'artifacts');
  cpSync(goodArtifacts, artifacts, { recursive: true });
  return { dir, pipeline, artifacts };
}

/** Every stage of a pipeline file, upstream first (the order Nx's DAG from the stage declarations allows). */
export function stagesInOrder(pipelineFile: string): string[] {
  const decls = stageDeclarations();
  const present = stagesOf(decls, parse(readFileSync(pipelineFile, 'utf8')));
  const order: string[] = [];
  const visit = (s: string) => {
    if (order.includes(s)) return;
    upstreamOf(decls, present, s).needs.forEach(visit);
    order.push(s);
  };
  present.forEach(visit);
  return order;
}

/** `over` laid over `base`: mappings merge key by key, anything else replaces. */
function overlay(base: unknown, over: unknown): unknown {
  if (!over || typeof over !== 'object' || Array.isArray(over) || !base || typeof base !== 'object' || Array.isArray(base)) return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) out[k] = overlay(out[k], v);
  return out;
}

/**
 * A shipped pipeline at a test's size: `pipelines/<name>.yaml` with `smaller` laid over it, written under
 * `dir` with the same name (so its artifacts folder is `<artifacts>/<name>`), then every stage run in order
 * as Nx would. Relative paths in the file keep meaning the repository's (stages resolve them from the root).
 */
export function runShippedPipeline(name: string, dir: string, smaller: Record<string, unknown> = {}) {
  const source = path.join(root, 'pipelines', `${name}.yaml`);
  mkdirSync(dir, { recursive: true });
  const pipeline = path.join(dir, `${name}.yaml`);
  writeFileSync(pipeline, stringify(overlay(parse(readFileSync(source, 'utf8')), smaller)));
  const artifacts = path.join(dir, 'artifacts');
  const runs: Record<string, StageRun> = {};
  for (const s of stagesInOrder(pipeline)) {
    runs[s] = runStage(s, pipeline, artifacts);
    if (runs[s].status !== 0) throw new Error(`${name}: ${s} failed: ${runs[s].stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return { pipeline, artifacts, out: (stage: string, file = '') => path.join(artifacts, name, stage, file), runs };
}
