/**
 * The peer figure (issue 9, on demand): ragrpo's GRPO training step against TRL's on the same shapes, on this
 * CPU, in one run, with the load average. Needs tools/reference/.venv-trl (tools/reference/setup_trl_venv.sh).
 *
 *   npx tsx tools/reference/trl_peer_bench.ts [--threads N] [--steps N] [--warmup N] [--small]
 *
 * Shapes: the default pipeline's scratch policy (Llama, 2 layers, hidden 128, 4 heads, MLP 384, vocab 2048),
 * LoRA r 8 on q_proj and v_proj (the policy defaults), one optimizer batch of 8 completions (2 prompts x
 * num_generations 4) of a 256-token prompt and 32 completion tokens, loss dapo, beta 0.04 (so a step includes
 * the reference log-probs), gradient clipping and AdamW. ragrpo: Trainer.grpoStep; TRL: the trainer's
 * _compute_loss + backward + clip + optimizer step, with the reference log-probs (adapter disabled) timed too.
 * Both use N threads (default: every core). Prints a table and writes artifacts/bench/trl-peer.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildScratchModelSync, createLora, loadModel, Policy, Prng, saveLora, Trainer, type GrpoExample } from '@ragrpo/model';

const root = path.resolve(import.meta.dirname, '..', '..');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const small = process.argv.includes('--small');
const threads = arg('threads', os.availableParallelism());
const steps = arg('steps', small ? 3 : 10);
const warmup = arg('warmup', small ? 1 : 3);
const python = process.env.RAGRPO_TRL_PYTHON ?? path.join(root, 'tools', 'reference', '.venv-trl', 'bin', 'python');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const shape = small
  ? { layers: 1, hidden: 32, heads: 2, intermediate: 64, vocab: 400, prompt: 32, completion: 8 }
  : { layers: 2, hidden: 128, heads: 4, intermediate: 384, vocab: 2048, prompt: 256, completion: 32 };
const G = 4;
const PROMPTS = 2;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ragrpo-trl-bench-'));
try {
  const modelDir = path.join(tmp, 'model');
  // seeded pseudo-words with a Zipf-like frequency: enough repeated pairs for the BPE to reach the vocabulary size
  const wordRng = new Prng(7);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const words = Array.from({ length: 3000 }, () => Array.from({ length: 3 + Math.floor(wordRng.next() * 6) }, () => letters[Math.floor(wordRng.next() * 26)]).join(''));
  const corpus = Array.from({ length: 4000 }, () => Array.from({ length: 12 }, () => words[Math.floor(words.length * wordRng.next() ** 3)]).join(' '));
  buildScratchModelSync({ out: modelDir, arch: 'llama', seed: 0, layers: shape.layers, hidden: shape.hidden, heads: shape.heads, intermediate: shape.intermediate, maxPositions: 1024, vocabSize: shape.vocab, corpus });
  const model = await loadModel(modelDir, { tokenizer: false });
  const lora = createLora(model.config, { r: 8, alpha: 16, targetModules: ['q_proj', 'v_proj'] }, 1);
  const rng = new Prng(2);
  for (const [name, w] of lora.weights) if (name.includes('lora_B')) for (let i = 0; i < w.data.length; i++) w.data[i] = rng.uniform(-0.02, 0.02);
  const adapterDir = path.join(tmp, 'adapter');
  saveLora(adapterDir, lora);
  const V = model.config.vocabSize;
  const ids = (n: number) => Array.from({ length: n }, () => 5 + Math.floor(rng.next() * (V - 5)));
  const prompts = Array.from({ length: PROMPTS }, () => ids(shape.prompt));
  const batch: GrpoExample[] = Array.from({ length: PROMPTS * G }, (_, i) => ({ promptIds: prompts[Math.floor(i / G)], completionIds: ids(shape.completion), advantage: rng.uniform(-1, 1) }));
  const load = [os.loadavg()[0]];

  // ragrpo
  const policy = new Policy(model, { lora, threads });
  const trainer = new Trainer(policy, { lr: 1e-4, maxGradNorm: 1, temperature: 1, grpo: { lossType: 'dapo', beta: 0.04, maxCompletionLength: shape.completion } });
  const ours: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    await trainer.grpoStep(batch);
    if (i >= warmup) ours.push((performance.now() - t0) / 1000);
  }
  await policy.release();
  load.push(os.loadavg()[0]);

  // TRL, the same batch and weights
  const batchFile = path.join(tmp, 'batch.json');
  writeFileSync(batchFile, JSON.stringify({
    prompt_ids: batch.map((e) => e.promptIds), completion_ids: batch.map((e) => e.completionIds), advantages: batch.map((e) => e.advantage),
    num_generations: G, max_completion_length: shape.completion, temperature: 1, loss_type: 'dapo', beta: 0.04,
  }));
  const r = spawnSync(python, [path.join(root, 'tools', 'reference', 'trl_parity.py'), 'bench', '--model', modelDir, '--adapter', adapterDir, '--batch', batchFile,
    '--steps', String(steps), '--warmup', String(warmup), '--threads', String(threads)], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads), TOKENIZERS_PARALLELISM: 'false' } });
  if (r.status !== 0) throw new Error(`TRL bench failed (is tools/reference/.venv-trl there? tools/reference/setup_trl_venv.sh): ${r.stderr.slice(-2000)}`);
  const trl = JSON.parse(r.stdout) as { median_s: number; times_s: number[]; torch: string };
  load.push(os.loadavg()[0]);

  const result = {
    'grpo_step/ragrpo': { value: median(ours), unit: 's' },
    'grpo_step/trl': { value: trl.median_s, unit: 's' },
    'grpo_step/ragrpo_over_trl': { value: median(ours) / trl.median_s, unit: 'ratio' },
    load_average_1m: { value: Math.max(...load), unit: 'load' },
    threads: { value: threads, unit: 'threads' },
  };
  const shapes = `${shape.layers} layers, hidden ${shape.hidden}, vocab ${V}, LoRA r 8 (q,v), ${PROMPTS * G} completions x (${shape.prompt} + ${shape.completion}) tokens, dapo, beta 0.04`;
  console.log(`GRPO step, ${shapes}, ${threads} threads, median of ${steps} after ${warmup} warm-up:`);
  console.log(`  ragrpo  ${median(ours).toFixed(3)} s   (${ours.map((t) => t.toFixed(3)).join(' ')})`);
  console.log(`  TRL     ${trl.median_s.toFixed(3)} s   (torch ${trl.torch}; ${trl.times_s.map((t) => t.toFixed(3)).join(' ')})`);
  console.log(`  ratio ragrpo / TRL = ${(median(ours) / trl.median_s).toFixed(2)}; load average (1 min) ${load.map((l) => l.toFixed(2)).join(' -> ')} on ${os.cpus().length} cores`);
  mkdirSync(path.join(root, 'artifacts', 'bench'), { recursive: true });
  writeFileSync(path.join(root, 'artifacts', 'bench', 'trl-peer.json'), JSON.stringify({ ...result, shapes: { value: shapes, unit: '' } }, null, 2) + '\n');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
