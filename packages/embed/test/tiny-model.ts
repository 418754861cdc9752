import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

/**
 * Builds the tiny embedder through its command line (tools/ is tooling, which stage packages do
 * not import), exactly as a user would before an offline run.
 */
export async function buildTinyModel(out: string, seed = 0, hidden = 32): Promise<void> {
  await promisify(execFile)(path.join(repoRoot, 'node_modules/.bin/tsx'), [
    path.join(repoRoot, 'tools/tiny-embedder/build.ts'), '--out', out, '--seed', String(seed), '--hidden', String(hidden),
  ]);
}
