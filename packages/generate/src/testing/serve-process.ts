/**
 * `ragrpo serve` as a child process, for tests that need a real OpenAI-compatible endpoint on loopback (generate's
 * endpoint path, the judge in reward and evaluate, the end-to-end tests). Imported as `@ragrpo/generate/testing`;
 * nothing in a stage runs it. The server is the workspace's linked bin (packages/cli), started on port 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../../../..');
const BIN = path.join(ROOT, 'node_modules', '.bin', 'ragrpo');

export interface ServeProcess {
  /** The API root, e.g. http://127.0.0.1:41234/v1. */
  url: string;
  child: ChildProcess;
  /** SIGTERM, resolved once the process has exited (at once if it already has). */
  stop: () => Promise<void>;
}

/** `ragrpo serve --model DIR --port 0 [extra]`; resolves with its base URL once it listens, rejects with its stderr if it exits first. */
export function startServe(model: string, extra: string[] = []): Promise<ServeProcess> {
  const child = spawn(BIN, ['serve', '--model', model, '--port', '0', ...extra], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => { err += String(d); });
  const stop = () => new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /on (http:\/\/127\.0\.0\.1:\d+\/v1) /.exec(out);
      if (m) resolve({ url: m[1], child, stop });
    });
    child.once('exit', (code) => reject(new Error(`ragrpo serve exited ${code}: ${err}`)));
  });
}
