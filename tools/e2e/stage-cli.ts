import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';

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
