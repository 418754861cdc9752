/**
 * Runs the PyTorch oracle (tools/reference/llama_reference.py, a float64 pure-torch forward) as a child
 * process. Test-only: it needs a python3 with torch (Debian python3-torch), found by findTorchPython().
 * The script is called by path, so the engine's tests do not import the tooling project.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REFERENCE_SCRIPT = path.resolve(import.meta.dirname, '../../..', 'tools', 'reference', 'llama_reference.py');

let cached: string | null | undefined;

/**
 * First interpreter that can `import torch`: $RAGRPO_TORCH_PYTHON, then python3 on PATH, then
 * /usr/bin/python3 (Debian's, where python3-torch installs when PATH has a pyenv python).
 * Returns null when none can.
 */
export function findTorchPython(): string | null {
  if (cached !== undefined) return cached;
  const candidates = [process.env['RAGRPO_TORCH_PYTHON'], 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  cached = null;
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch, numpy'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) {
      cached = py;
      break;
    }
  }
  return cached;
}

export interface ReferenceResult {
  /** [batch, seqLen, vocab] */
  shape: [number, number, number];
  /** Row-major float32 values (computed in float64, rounded once on output). */
  data: Float32Array;
}

/** Runs the oracle on equal-length rows of token ids; returns logits (or log-probs). */
export function referenceLogits(modelFolder: string, ids: number[][], opts: { logSoftmax?: boolean } = {}): ReferenceResult {
  const py = findTorchPython();
  if (!py) throw new Error('no python3 with torch found (apt-get install python3-torch python3-numpy, or set RAGRPO_TORCH_PYTHON)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ragrpo-ref-'));
  try {
    const out = path.join(dir, 'logits.f32');
    const args = [REFERENCE_SCRIPT, '--model', path.resolve(modelFolder), '--out', out];
    if (opts.logSoftmax) args.push('--log-softmax');
    const summary = execFileSync(py, args, { input: JSON.stringify({ input_ids: ids }), encoding: 'utf8', maxBuffer: 1 << 20 });
    const { shape } = JSON.parse(summary) as { shape: [number, number, number] };
    const buf = fs.readFileSync(out);
    const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    return { shape, data };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
