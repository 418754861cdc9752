// `npm run bench -- trl`: the peer figure (issue 9). One whole GRPO step, 8 prompts x num_generations 8 x 64 new
// tokens over 256-token prompts, LoRA r 8 (alpha 16) on q_proj/v_proj, loss dapo, beta 0.04, micro-batches of 8
// (one optimizer step per generation batch), gradient clipping 1, AdamW, on the same model folder and adapter in
// ragrpo and in TRL's GRPOTrainer (tools/reference/.venv-trl, torch CPU), one after the other in this run, each
// split into generation and training:
//   ragrpo  sample (batched group decode) + Trainer.grpoStep          tools/bench/trl-ragrpo-child.ts
//   TRL     _generate_single_turn (model.generate) + reference log-probs + _compute_loss/backward per micro-batch
//           + clip + optimizer step                                   tools/reference/trl_grpo_step.py
// Models: the scratch micro-model (the default pipeline's shape: Llama, 2 layers, hidden 128, 4 heads, MLP 384,
// vocab 2048, built by buildScratchModel) and SmolLM2-135M-Instruct where models/smollm2-135m-instruct exists
// (`npx tsx tools/models/fetch.ts smollm2-135m-instruct`). Both sides run the same thread count (2 by default).
// Writes target.trl_over_ragrpo_step (scratch model, TRL's step seconds over ragrpo's; target >= 2) and TRL's
// generation tokens/s against ragrpo's batched decode. Without the venv TRL is skipped with a note and ragrpo's
// figures are still written. Medians of `steps` after `warmup` steps (the first builds every session shape).
//
// Environment (all optional):
//   RAGRPO_BENCH_TRL_MODELS   scratch,smollm2 (default: both; smollm2 only where the folder exists)
//   RAGRPO_BENCH_TRL_THREADS  2
//   RAGRPO_BENCH_TRL_STEPS    measured steps per model (default: scratch 3, smollm2 1)
//   RAGRPO_BENCH_TRL_WARMUP   1
//   RAGRPO_BENCH_TRL_SHAPE    PxGxT[xTp] to override 8x8x64x256 (quick checks; the target is for the default shape)
//   RAGRPO_TRL_PYTHON         TRL's python (default tools/reference/.venv-trl/bin/python)
//   OMP_WAIT_POLICY           TRL's side runs with PASSIVE unless this is set: on a loaded machine the OpenMP workers
//                             of torch's MKL build spin-wait for the cores other processes hold (measured here, load
//                             ~4 on 2 cores: a SmolLM2 4 x 1 decode step 0.13 s passive, 0.77 s active); the setting
//                             favours the peer, and on an idle machine it costs little. ragrpo's ORT pool spins too
//                             (allow_spinning is ORT's default): under that load ragrpo's 2-thread step was slower
//                             than its 1-thread step, so on a busy machine compare RAGRPO_BENCH_TRL_THREADS=1 as well
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildScratchModel, createLora, loadModel, Prng, saveLora } from '@ragrpo/model';
import type { Metrics } from './report.ts';
import type { RagrpoStepRequest, RagrpoStepResult } from './trl-ragrpo-child.ts';

const here = import.meta.dirname;
const root = path.resolve(here, '..', '..');
const SMOLLM2 = path.join(root, 'models', 'smollm2-135m-instruct');
const SCRATCH = { arch: 'llama' as const, layers: 2, hidden: 128, heads: 4, intermediate: 384, maxPositions: 1024, vocabSize: 2048 };
const SETTINGS = { beta: 0.04, temperature: 1, microBatch: 8, learningRate: 1e-5, loraR: 8, loraAlpha: 16 };
const log = (m: string) => console.error(`[trl] ${m}`);
const fastest = (r: RagrpoStepResult) => Math.min(...r.generation_times_s.map((g, i) => g + r.training_times_s[i]));

interface TrlStepResult extends RagrpoStepResult { torch: string; trl: string; transformers: string }
interface Shape { prompts: number; generations: number; newTokens: number; promptLen: number }

export function trlPython(): string {
  return process.env.RAGRPO_TRL_PYTHON ?? path.join(root, 'tools', 'reference', '.venv-trl', 'bin', 'python');
}

function parseShape(s: string | undefined): Shape {
  if (!s) return { prompts: 8, generations: 8, newTokens: 64, promptLen: 256 };
  const m = /^(\d+)x(\d+)x(\d+)(?:x(\d+))?$/.exec(s.trim());
  if (!m) throw new Error(`RAGRPO_BENCH_TRL_SHAPE: expected PxGxT or PxGxTxTp (e.g. 8x8x64x256), got '${s}'`);
  return { prompts: Number(m[1]), generations: Number(m[2]), newTokens: Number(m[3]), promptLen: Number(m[4] ?? 256) };
}

const envInt = (name: string, def: number) => {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: expected a non-negative integer, got '${v}'`);
  return n;
};

/** Runs a child process, stderr passed through (its progress lines), stdout returned; throws on a non-zero exit. */
function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const s = d.toString();
      err = (err + s).slice(-8000);
      process.stderr.write(s);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${path.basename(cmd)} ${args.slice(0, 2).join(' ')} exited with ${code}:\n${err.slice(-3000)}`))));
  });
}

/** Seeded pseudo-words with a Zipf-like frequency: enough repeated pairs for the BPE to reach 2048 tokens. */
function scratchCorpus(): string[] {
  const rng = new Prng(7);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const words = Array.from({ length: 3000 }, () => Array.from({ length: 3 + Math.floor(rng.next() * 6) }, () => letters[Math.floor(rng.next() * 26)]).join(''));
  return Array.from({ length: 4000 }, () => Array.from({ length: 12 }, () => words[Math.floor(words.length * rng.next() ** 3)]).join(' '));
}

/** Folder, adapter, prompts and advantages of one model case: the same files and numbers for both sides. */
async function prepare(name: string, modelDir: string, tmp: string, shape: Shape) {
  const model = await loadModel(modelDir, { tokenizer: false });
  const lora = createLora(model.config, { r: SETTINGS.loraR, alpha: SETTINGS.loraAlpha, dropout: 0, targetModules: ['q_proj', 'v_proj'] }, 1);
  // a trained-looking adapter (lora_B is zero at init): the adapter's path matters on both sides
  const rng = new Prng(2);
  for (const [k, w] of lora.weights) if (k.includes('lora_B')) for (let i = 0; i < w.data.length; i++) w.data[i] = rng.uniform(-0.02, 0.02);
  const adapter = path.join(tmp, `${name}-adapter`);
  saveLora(adapter, lora);
  const V = model.config.vocabSize;
  const lo = Math.min(100, Math.floor(V / 10)); // clear of the special tokens at the start of both vocabularies
  const promptIds = Array.from({ length: shape.prompts }, () => Array.from({ length: shape.promptLen }, () => lo + Math.floor(rng.next() * (V - lo))));
  // group-normalised advantages (zero mean, unit std per group), as TRL's scale_rewards 'group' gives them
  const advantages = Array.from({ length: shape.prompts }, () => {
    const r = Array.from({ length: shape.generations }, () => rng.next());
    const mean = r.reduce((a, b) => a + b, 0) / r.length;
    const std = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(r.length - 1, 1)) + 1e-4;
    return r.map((x) => (x - mean) / std);
  }).flat();
  return { adapter, promptIds, advantages };
}

export async function trlSuite(): Promise<Metrics> {
  const threads = envInt('RAGRPO_BENCH_TRL_THREADS', 2);
  const warmup = envInt('RAGRPO_BENCH_TRL_WARMUP', 1);
  const shape = parseShape(process.env.RAGRPO_BENCH_TRL_SHAPE);
  const wanted = (process.env.RAGRPO_BENCH_TRL_MODELS ?? 'scratch,smollm2').split(',').map((s) => s.trim()).filter(Boolean);
  for (const w of wanted) if (w !== 'scratch' && w !== 'smollm2') throw new Error(`RAGRPO_BENCH_TRL_MODELS: unknown model '${w}' (scratch, smollm2)`);
  const rows = shape.prompts * shape.generations;
  const microBatch = Math.min(SETTINGS.microBatch, rows);
  if (rows % microBatch !== 0) throw new Error(`RAGRPO_BENCH_TRL_SHAPE: ${rows} completions are not a whole number of micro-batches of ${microBatch}`);
  const python = trlPython();
  const ompWait = process.env.OMP_WAIT_POLICY || 'PASSIVE';
  const haveTrl = existsSync(python);
  const metrics: Metrics = {};
  const load = [os.loadavg()[0]];
  if (!haveTrl) log(`TRL SKIPPED: no ${path.relative(root, python)} (run tools/reference/setup_trl_venv.sh); ragrpo's figures only`);
  log(`one GRPO step: ${shape.prompts} prompts x ${shape.generations} generations x ${shape.newTokens} new tokens, ${shape.promptLen}-token prompts, ` +
    `LoRA r ${SETTINGS.loraR} (q_proj, v_proj), dapo, beta ${SETTINGS.beta}, micro-batch ${microBatch}, ${threads} threads on both sides ` +
    `(TRL: OMP_WAIT_POLICY=${ompWait}; ${os.availableParallelism()} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`);

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ragrpo-bench-trl-'));
  try {
    for (const name of wanted) {
      let modelDir: string;
      if (name === 'scratch') {
        modelDir = path.join(tmp, 'scratch-model');
        log('scratch: building the micro-model (byte-level BPE 2048 + seeded Llama weights)');
        await buildScratchModel({ out: modelDir, seed: 0, corpus: scratchCorpus(), ...SCRATCH });
      } else {
        if (!existsSync(path.join(SMOLLM2, 'config.json'))) {
          log(`smollm2: SKIPPED (no ${path.relative(root, SMOLLM2)}: npx tsx tools/models/fetch.ts smollm2-135m-instruct)`);
          continue;
        }
        modelDir = SMOLLM2;
      }
      const steps = envInt('RAGRPO_BENCH_TRL_STEPS', name === 'scratch' ? 3 : 1);
      if (steps < 1) throw new Error('RAGRPO_BENCH_TRL_STEPS must be at least 1');
      const c = await prepare(name, modelDir, tmp, shape);
      const common = { generations: shape.generations, maxCompletionLength: shape.newTokens, temperature: SETTINGS.temperature, beta: SETTINGS.beta, microBatch, learningRate: SETTINGS.learningRate, threads, steps, warmup };
      const req: RagrpoStepRequest = { model: modelDir, adapter: c.adapter, promptIds: c.promptIds, advantages: c.advantages, ...common };
      const reqFile = path.join(tmp, `${name}-request.json`);
      writeFileSync(reqFile, JSON.stringify(req));
      const env = { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), TOKENIZERS_PARALLELISM: 'false' };

      log(`${name}: ragrpo, ${warmup} warm-up + ${steps} measured step(s)`);
      const out = await runChild(process.execPath, ['--import', 'tsx', path.join(here, 'trl-ragrpo-child.ts'), reqFile], env);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) throw new Error(`trl-ragrpo-child printed no RESULT line:\n${out}`);
      const ours = JSON.parse(line.slice(7)) as RagrpoStepResult;
      load.push(os.loadavg()[0]);
      const put = (side: string, r: RagrpoStepResult) => Object.assign(metrics, {
        [`${name}.${side}.generation_s`]: { value: r.generation_s, unit: 's' },
        [`${name}.${side}.training_s`]: { value: r.training_s, unit: 's', note: 'reference log-probs + loss/backward + clip + AdamW' },
        [`${name}.${side}.step_s`]: { value: r.step_s, unit: 's' },
        [`${name}.${side}.generation_tokens_per_s`]: { value: r.completion_tokens / r.generation_s, unit: 'tokens/s', note: side === 'ragrpo' ? 'batched group decode' : 'model.generate' },
      });
      put('ragrpo', ours);

      if (!haveTrl) continue;
      const batchFile = path.join(tmp, `${name}-batch.json`);
      writeFileSync(batchFile, JSON.stringify({
        prompt_ids: c.promptIds, advantages: c.advantages, num_generations: shape.generations, max_completion_length: shape.newTokens,
        temperature: SETTINGS.temperature, loss_type: 'dapo', beta: SETTINGS.beta, micro_batch: microBatch, learning_rate: SETTINGS.learningRate,
      }));
      log(`${name}: TRL, ${warmup} warm-up + ${steps} measured step(s)`);
      const trlOut = await runChild(python, [path.join(root, 'tools', 'reference', 'trl_grpo_step.py'), '--model', modelDir, '--adapter', c.adapter, '--batch', batchFile,
        '--steps', String(steps), '--warmup', String(warmup), '--threads', String(threads)], { ...env, OMP_WAIT_POLICY: ompWait });
      const trl = JSON.parse(trlOut) as TrlStepResult;
      if (trl.threads !== threads) throw new Error(`TRL ran ${trl.threads} threads, ragrpo ${threads}`);
      if (trl.completion_tokens !== ours.completion_tokens) throw new Error(`TRL generated ${trl.completion_tokens} completion tokens, ragrpo ${ours.completion_tokens}: not the same step`);
      load.push(os.loadavg()[0]);
      put('trl', trl);
      Object.assign(metrics, {
        [`${name}.trl_over_ragrpo.generation`]: { value: trl.generation_s / ours.generation_s, unit: 'x' },
        [`${name}.trl_over_ragrpo.training`]: { value: trl.training_s / ours.training_s, unit: 'x' },
        [`${name}.trl_over_ragrpo.step`]: { value: trl.step_s / ours.step_s, unit: 'x' },
        [`${name}.trl_over_ragrpo.step_fastest`]: { value: fastest(trl) / fastest(ours), unit: 'x', note: 'fastest step of each side: less sensitive to load spikes' },
        [`${name}.generation_tokens_per_s.ragrpo_over_trl`]: { value: (ours.completion_tokens / ours.generation_s) / (trl.completion_tokens / trl.generation_s), unit: 'x', note: "ragrpo's batched decode over TRL's model.generate" },
      });
      if (name === 'scratch') metrics['target.trl_over_ragrpo_step'] = { value: trl.step_s / ours.step_s, unit: 'x', note: `target >= 2 (torch ${trl.torch}, trl ${trl.trl})` };
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (!haveTrl) metrics['trl.skipped'] = { value: 1, unit: 'flag', note: 'no tools/reference/.venv-trl: run tools/reference/setup_trl_venv.sh' };
  Object.assign(metrics, {
    'shape.prompts': { value: shape.prompts, unit: '' },
    'shape.generations': { value: shape.generations, unit: '' },
    'shape.new_tokens': { value: shape.newTokens, unit: 'tokens' },
    'shape.prompt_tokens': { value: shape.promptLen, unit: 'tokens' },
    'host.threads': { value: threads, unit: 'threads', note: 'both sides (ORT intra-op; torch.set_num_threads)' },
    'host.cores': { value: os.availableParallelism(), unit: 'cores' },
    'host.trl_omp_wait_passive': { value: ompWait.toUpperCase() === 'PASSIVE' ? 1 : 0, unit: 'flag', note: `TRL's OMP_WAIT_POLICY=${ompWait}` },
    'host.loadavg_1m': { value: Math.max(...load), unit: '', note: 'highest 1-minute load average seen during the suite' },
  });
  return metrics;
}
