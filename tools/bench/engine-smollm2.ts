// `npm run bench -- engine`, the real-checkpoint part: SmolLM2-135M-Instruct (models/smollm2-135m-instruct, from
// `npx tsx tools/models/fetch.ts all`) on @ragrpo/model, and the same forward passes in transformers (the oracle
// venv tools/reference/.venv, torch CPU) as the peer, measured in the same run:
//   prefill tokens/s   B x 256 prompt tokens, logits at every position (B = 1: one sequence; B = 8: a group of 8)
//   decode tokens/s    32 greedy tokens per row after that prefill: the 31 KV-cache steps after the prefill's token
//                      (ours: the whole sample() minus its prefill; transformers: its cached forwards timed alone)
//   a LoRA GRPO step   r=8 on q_proj,v_proj (the pipelines' PEFT default): sample a group of 8 (2 prompts x 4) of
//                      64 new tokens at temperature 1, a token-level reward, TRL's advantages, beta 0.04 reference
//                      log-probs, Trainer.grpoStep (forward + backward + AdamW)
// Both sides run 2 threads. Without the model folder every figure is NaN with a note; without the venv the peer
// figures are NaN and the ratios absent.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { createLora, loadModel, Policy, sample, Trainer, type GrpoExample, type LoadedModel } from '@ragrpo/model';
import { computeAdvantages } from '@ragrpo/reward';
import { median } from './engine-step.ts';
import type { Metrics } from './report.ts';

const run = promisify(execFile);
const here = import.meta.dirname;
const repoRoot = path.resolve(here, '..', '..');
const MODEL = path.join(repoRoot, 'models', 'smollm2-135m-instruct');
const VENV_PYTHON = path.join(repoRoot, 'tools', 'reference', '.venv', 'bin', 'python');
const PROMPT_LEN = 256;
const NEW_TOKENS = 32;
const RUNS = 3;
const GRPO = { prompts: 2, group: 4, newTokens: 64, beta: 0.04, runs: 2 };
const log = (msg: string) => console.error(`[engine/smollm2] ${msg}`);

const TEXT = [
  'Tenute Silvio Nardi 2007 Poggio Doria (Brunello di Montalcino). Structured and elegant, it opens with a fruit',
  'fragrance of black plum, wild berries and prune accentuated with hints of leather, tilled soil and spice. The',
  'firm palate offers black cherry, licorice and tobacco alongside polished tannins. Points: 93. Price: 65.',
  'Nicora 2014 Euphoric La Vista Vineyard Grenache (Adelaida District). Candied black cherry, crushed thyme,',
  'marjoram, peppercorn and smoked meat show on the nose of this bottling, which is bright and lively on the sip.',
].join(' ');

/** Eight distinct prompts of PROMPT_LEN real-text token ids (windows into the repeated text). */
function promptIds(model: LoadedModel): number[][] {
  const tok = model.tokenizer!;
  let ids: number[] = [];
  while (ids.length < PROMPT_LEN + 64) ids = ids.concat(tok.encode(TEXT + ' '));
  return Array.from({ length: 8 }, (_, i) => ids.slice(i * 7, i * 7 + PROMPT_LEN));
}

async function timed(fn: () => Promise<unknown>, runs: number): Promise<number> {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

interface PeerCase { prefill_tok_per_s: number; decode_tok_per_s: number; prefill_ms: number; decode_ms: number }
interface Peer { torch: string; transformers: string; blas: string[]; cases: Record<'b1' | 'b8', PeerCase> }

async function torchPeer(prompts: number[][]): Promise<Peer> {
  const idsFile = path.join(os.tmpdir(), `ragrpo-smollm2-bench-${process.pid}.json`);
  fs.writeFileSync(idsFile, JSON.stringify(prompts));
  try {
    const env = { ...process.env, OMP_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '2', OMP_WAIT_POLICY: 'PASSIVE' };
    const args = [path.join(here, 'smollm2_torch.py'), '--model', MODEL, '--ids-json', idsFile, '--new', String(NEW_TOKENS), '--threads', '2', '--runs', String(RUNS)];
    const { stdout } = await run(VENV_PYTHON, args, { env, maxBuffer: 1 << 20, cwd: repoRoot });
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Peer;
  } finally {
    fs.rmSync(idsFile, { force: true });
  }
}

export async function smollm2Bench(): Promise<Metrics> {
  const m: Metrics = {};
  const put = (name: string, value: number, unit: string, note?: string) => (m[`smollm2.${name}`] = note ? { value, unit, note } : { value, unit });
  if (!fs.existsSync(path.join(MODEL, 'config.json'))) {
    put('prefill.b1.tok_per_s', NaN, 'tok/s', `no ${path.relative(repoRoot, MODEL)}: run npx tsx tools/models/fetch.ts all`);
    return m;
  }
  put('load_avg_1m.start', os.loadavg()[0], 'procs', 'load average when this part started (2 = both cores busy): single-sequence decode moves most with it');
  log('loading SmolLM2-135M-Instruct');
  const model = await loadModel(MODEL);
  const prompts = promptIds(model);
  const ours: Record<'b1' | 'b8', { prefill: number; decode: number }> = { b1: { prefill: NaN, decode: NaN }, b8: { prefill: NaN, decode: NaN } };
  const policy = new Policy({ config: model.config, weights: model.weights }, { threads: 2 });
  try {
    for (const [key, rows] of [['b1', prompts.slice(0, 1)], ['b8', prompts]] as const) {
      log(`prefill and decode, B=${rows.length}`);
      const prefillMs = await timed(() => policy.prefill(rows), RUNS);
      const sampleMs = await timed(() => sample(policy, rows, { maxNewTokens: NEW_TOKENS, temperature: 0, eosTokenIds: [] }), RUNS);
      ours[key] = { prefill: (rows.length * PROMPT_LEN) / prefillMs * 1000, decode: (rows.length * (NEW_TOKENS - 1)) / Math.max(sampleMs - prefillMs, 1e-9) * 1000 };
      const what = key === 'b1' ? 'one sequence' : 'a group of 8';
      put(`prefill.${key}.tok_per_s`, ours[key].prefill, 'tok/s', `${what}, ${rows.length}x${PROMPT_LEN} prompt tokens, median of ${RUNS} (${prefillMs.toFixed(0)} ms)`);
      put(`decode.${key}.tok_per_s`, ours[key].decode, 'tok/s', `${what}, ${NEW_TOKENS} greedy tokens per row: ${NEW_TOKENS - 1} cached steps (sample() ${sampleMs.toFixed(0)} ms minus the prefill)`);
    }
  } finally {
    await policy.release();
  }

  log(`LoRA GRPO step: ${GRPO.prompts} prompts x ${GRPO.group}, ${GRPO.newTokens} new tokens, beta ${GRPO.beta}`);
  const lora = createLora(model.config, { r: 8, alpha: 16, targetModules: ['q_proj', 'v_proj'] }, 0);
  const trained = new Policy({ config: model.config, weights: model.weights }, { lora, trainable: 'lora', threads: 2 });
  try {
    const trainer = new Trainer(trained, { lr: 1e-4, microBatchSize: 4, grpo: { beta: GRPO.beta, lossType: 'dapo', maxCompletionLength: GRPO.newTokens } });
    const grpoPrompts = prompts.slice(0, GRPO.prompts);
    const reward = (ids: number[]) => ids.filter((t) => t % 2 === 0).length / Math.max(ids.length, 1);
    const step = async (seed: number) => {
      const t0 = performance.now();
      const groups = await sample(trained, grpoPrompts, { maxNewTokens: GRPO.newTokens, temperature: 1, groupSize: GRPO.group, seed, eosTokenIds: [] });
      const t1 = performance.now();
      const flat = groups.flat();
      const adv = computeAdvantages([flat.map((c) => reward(c.tokens))], { groupSize: GRPO.group, scaleRewards: 'group', aggregation: 'sum_then_normalize' });
      const pairs = flat.map((c) => ({ promptIds: grpoPrompts[c.promptIndex], completionIds: c.tokens }));
      const ref = await trained.logprobs(pairs, { reference: true, batchSize: 4 });
      const t2 = performance.now();
      const examples: GrpoExample[] = pairs.map((p, i) => ({ ...p, advantage: adv.advantages[i], refLogprobs: ref[i] }));
      await trainer.grpoStep(examples);
      const t3 = performance.now();
      return { sampling: (t1 - t0) / 1000, ref: (t2 - t1) / 1000, train: (t3 - t2) / 1000, step: (t3 - t0) / 1000 };
    };
    await step(0);
    const runs: Awaited<ReturnType<typeof step>>[] = [];
    for (let i = 1; i <= GRPO.runs; i++) runs.push(await step(i));
    const pick = (k: keyof (typeof runs)[number]) => median(runs.map((r) => r[k]));
    const shape = `${GRPO.prompts * GRPO.group} completions of ${GRPO.newTokens} tokens after ${PROMPT_LEN}-token prompts, LoRA r=8 q_proj,v_proj, median of ${GRPO.runs} after a warm-up`;
    put('grpo_lora_step.s', pick('step'), 's', shape);
    put('grpo_lora_step.sampling.s', pick('sampling'), 's', 'the group, sampled from the current policy (temperature 1)');
    put('grpo_lora_step.ref_logprobs.s', pick('ref'), 's', `reference log-probs (beta ${GRPO.beta}: the base without the adapter)`);
    put('grpo_lora_step.train.s', pick('train'), 's', 'Trainer.grpoStep: forward + backward + AdamW, micro-batches of 4');
  } finally {
    await trained.release();
  }

  if (!fs.existsSync(VENV_PYTHON)) {
    put('torch.prefill.b1.tok_per_s', NaN, 'tok/s', 'no oracle venv: run tools/reference/setup_venv.sh');
    return m;
  }
  log('transformers peer (oracle venv)');
  try {
    const peer = await torchPeer(prompts);
    put('load_avg_1m.end', os.loadavg()[0], 'procs');
    for (const key of ['b1', 'b8'] as const) {
      const p = peer.cases[key];
      put(`torch.prefill.${key}.tok_per_s`, p.prefill_tok_per_s, 'tok/s', `transformers ${peer.transformers}, torch ${peer.torch} (run on the CPU), 2 threads, eager attention, float32`);
      put(`torch.decode.${key}.tok_per_s`, p.decode_tok_per_s, 'tok/s', `greedy, ${NEW_TOKENS - 1} cached forwards after the prefill's token`);
      put(`ratio.prefill.${key}`, ours[key].prefill / p.prefill_tok_per_s, 'x', 'ours / transformers (> 1: ragrpo faster)');
      put(`ratio.decode.${key}`, ours[key].decode / p.decode_tok_per_s, 'x', 'ours / transformers (> 1: ragrpo faster)');
    }
  } catch (e) {
    put('torch.prefill.b1.tok_per_s', NaN, 'tok/s', `transformers peer failed: ${(e as Error).message.split('\n')[0]}`);
  }
  return m;
}

// Run alone: npx tsx tools/bench/engine-smollm2.ts
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(here, 'engine-smollm2.ts')) {
  const { reportSuite } = await import('./report.ts');
  await reportSuite('engine-smollm2', await smollm2Bench());
}
