// Builds the tiny random models the tests run on, once per process, into a temporary folder.
// The builder is the tools/tiny-llm CLI, run as a child process: the engine package (tests included) never
// imports the tooling project, which itself depends on @ragrpo/model.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';
import { loadModel, type LoadedModel } from '../src/loading/load-model.ts';

export const repoRoot = path.resolve(import.meta.dirname, '../../..');
const TSX = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
const BUILD_SCRIPT = path.join(repoRoot, 'tools', 'tiny-llm', 'build.ts');

export type TinyArch = 'llama' | 'llama3' | 'qwen2' | 'mistral' | 'smollm';
export const TINY_ARCHS: readonly TinyArch[] = ['llama', 'llama3', 'qwen2', 'mistral', 'smollm'];

/** The tools/tiny-llm/build.ts flags, camelCased (kvHeads -> --kv-heads); unset ones keep the builder's defaults. */
export interface TinyModelOptions {
  seed?: number;
  layers?: number;
  hidden?: number;
  heads?: number;
  kvHeads?: number;
  intermediate?: number;
  vocab?: number;
  maxPositions?: number;
  slidingWindow?: number;
  dtype?: 'F32' | 'BF16' | 'F16';
  initStd?: number;
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ragrpo-model-test-'));
// Registered while the importing test file is collected, so it runs after that file's own afterAll hooks.
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const built = new Map<string, string>();

/** Runs the tiny-llm CLI: writes a model folder at `out`. Throws with the CLI's stderr when it refuses. */
export function buildTinyModelCli(arch: TinyArch, out: string, opts: TinyModelOptions = {}): string {
  const args = [BUILD_SCRIPT, '--arch', arch, '--out', out];
  for (const [key, value] of Object.entries({ seed: 0, ...opts })) {
    if (value === undefined) continue;
    // String(number) round-trips exactly, so --init-std 0.15 gives the same weights as the in-process builder.
    args.push(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(value));
  }
  try {
    execFileSync(TSX, args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`tiny-llm build ${args.slice(1).join(' ')} failed: ${err.stderr?.trim() || err.message}`);
  }
  return out;
}

/** Folder of a tiny model (built on first use, shared by every caller in this process asking for the same options). */
export function tinyModelFolder(arch: TinyArch, extra: TinyModelOptions = {}): string {
  const key = `${arch}:${JSON.stringify({ seed: 0, ...extra })}`;
  let dir = built.get(key);
  if (!dir) {
    dir = buildTinyModelCli(arch, path.join(root, `tiny-${arch}-${built.size}`), extra);
    built.set(key, dir);
  }
  return dir;
}

export async function tinyModel(arch: TinyArch, extra: TinyModelOptions = {}): Promise<LoadedModel> {
  return loadModel(tinyModelFolder(arch, extra));
}

export function tempDir(name: string): string {
  return fs.mkdtempSync(path.join(root, `${name}-`));
}

/** max |a - b| / max |b|: the relative error of a whole tensor against a reference. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}
