// `npm run bench -- engine`: the training engine's benchmark (issue #3). One run measures
//   1. ORT fp32 MatMul peak at 2 intra-op threads (GraphBuilder + Session, best of several runs);
//   2. a forward+backward step of the reference shape (1 layer, B=8, T=128, d=256, 4 heads, MLP 768, vocab 2048)
//      built with @ragrpo/model's decoder graph, all weights trained; ms and MatMul GFLOP/s (engine-flops.ts);
//   3. the same step in PyTorch CPU (torch_step.py), best thread setting, and torch_ms / ours_ms;
//   4. 12 layers, d=768, vocab 32000 (134M params), B=1, T=512: full fine-tuning and LoRA r=16 steps, each in its
//      own child process (session creation time, step time, peak RSS);
//   5. sampler decode throughput: a group of 8 decoded as one batch vs 8 sequential single completions.
// Targets are reported as extra `target.*` metrics (the ratio, and `.met` 1/0); a missed target never fails the run.
// Timings are medians after warm-up runs except the MatMul peak (best run). The host is a shared 2-vCPU machine
// where other engineers run tests, so figures move by tens of percent between runs; the load average is recorded.
import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Metrics } from './report.ts';
import { decodeBench } from './engine-decode.ts';
import { trainStepFlops } from './engine-flops.ts';
import { matmulPeak } from './engine-matmul.ts';
import { benchConfig, DECODE_DIMS, LARGE_DIMS, LORA_RANK, LORA_TARGETS, REFERENCE_DIMS, type ModelDims, type TrainMode } from './engine-models.ts';
import { measureTrainStep, type StepRequest, type StepResult } from './engine-step.ts';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const THREADS = 2;
const REF = { batch: 8, seqLen: 128 };
const LARGE = { batch: 1, seqLen: 512 };

const TARGETS = { stepVsPeak: 0.65, torchSpeedup: 1.5, loraRssGb: 4, batchedDecodeSpeedup: 4 };

const log = (msg: string) => console.error(`[engine] ${msg}`);
const gflops = (flops: number, ms: number) => flops / ms / 1e6;

type ChildResult = StepResult & { maxRssKb: number; vmHwmKb: number | null };

/** One training-step measurement in a child process, so its peak RSS is its own. */
async function stepInChild(req: StepRequest): Promise<ChildResult> {
  const child = path.join(here, 'engine-step-child.ts');
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, JSON.stringify(req)], { cwd: repoRoot, maxBuffer: 16 << 20 });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`engine-step-child printed no RESULT line:\n${stdout}`);
  return JSON.parse(line.slice('RESULT '.length)) as ChildResult;
}

interface TorchRun {
  label: string;
  median_ms: number;
  min_ms: number;
  blas: string[];
  torch: string;
}

/** torch_step.py once per thread setting (OpenBLAS' pool is sized per process by OPENBLAS_NUM_THREADS). */
async function torchStep(dims: ModelDims): Promise<TorchRun[]> {
  const settings = [
    { label: 'torch 1 thread, OpenBLAS 1', torch: 1, blas: 1, env: {} },
    // Active OpenMP spin-waiting next to OpenBLAS' own threads is 4x slower on this loaded host: wait passively.
    { label: 'torch 2 threads, OpenBLAS 2, OMP_WAIT_POLICY=PASSIVE', torch: 2, blas: 2, env: { OMP_WAIT_POLICY: 'PASSIVE' } },
    { label: 'torch 1 thread, OpenBLAS 2', torch: 1, blas: 2, env: {} },
  ];
  const args = [
    path.join(here, 'torch_step.py'),
    ...['--layers', dims.layers, '--hidden', dims.hidden, '--heads', dims.heads, '--mlp', dims.intermediate, '--vocab', dims.vocab],
    ...['--batch', REF.batch, '--seq', REF.seqLen, '--warmup', 3, '--runs', 10],
  ].map(String);
  const out: TorchRun[] = [];
  for (const s of settings) {
    const env = { ...process.env, ...s.env, OPENBLAS_NUM_THREADS: String(s.blas), OMP_NUM_THREADS: String(s.torch) };
    const { stdout } = await run('/usr/bin/python3', [...args, '--threads', String(s.torch)], { env, maxBuffer: 1 << 20 });
    const r = JSON.parse(stdout.trim().split('\n').pop()!);
    out.push({ label: s.label, median_ms: r.best.median_ms, min_ms: r.best.min_ms, blas: r.blas, torch: r.torch });
  }
  return out;
}

export async function engineSuite(): Promise<Metrics> {
  const m: Metrics = {};
  const started = performance.now();
  const put = (name: string, value: number, unit: string, note?: string) => (m[name] = note ? { value, unit, note } : { value, unit });
  const target = (name: string, value: number, unit: string, goal: string, met: boolean) => {
    put(`target.${name}`, value, unit, `target ${goal}: ${met ? 'MET' : 'MISSED'}`);
    put(`target.${name}.met`, met ? 1 : 0, 'bool');
  };
  put('host.cpus', os.cpus().length, 'cores', `${os.cpus()[0]?.model ?? '?'}; shared host, other engineers run tests: expect +-30 % between runs`);
  put('host.load_avg_1m.start', os.loadavg()[0], 'procs', 'load average when the suite started (2 = both cores busy)');

  // 1. MatMul peak: several square sizes (cache behaviour differs on this host), peak = best of all.
  log('1/5 MatMul peak');
  let peak = 0;
  for (const size of [256, 512, 1024]) {
    const r = await matmulPeak({ size, chain: 4, weightsAsInputs: false, threads: THREADS, warmup: 2, runs: 10 });
    put(`matmul.${size}.best`, r.gflops, 'GFLOP/s', `4 chained ${size}^3 MatMuls, weights as initializers, best of 10`);
    put(`matmul.${size}.median`, r.medianGflops, 'GFLOP/s');
    peak = Math.max(peak, r.gflops);
  }
  const asInputs = await matmulPeak({ size: 1024, chain: 4, weightsAsInputs: true, threads: THREADS, warmup: 2, runs: 10 });
  put('matmul.1024.weights_as_inputs.best', asInputs.gflops, 'GFLOP/s', 'no ORT pre-packing (how full fine-tuning feeds weights)');
  put('matmul.peak', peak, 'GFLOP/s', `best over sizes, ${THREADS} intra-op threads`);

  // 2. reference step (in-process; its memory is small)
  log('2/5 reference step (1 layer, B=8, T=128)');
  const refCfg = benchConfig(REFERENCE_DIMS);
  const refFull = await measureTrainStep({ dims: REFERENCE_DIMS, mode: 'full', ...REF, warmup: 3, runs: 15, threads: THREADS });
  const refFlops = trainStepFlops(refCfg, { ...REF, mode: 'full' });
  const refGflops = gflops(refFlops.total, refFull.medianMs);
  put('reference.step.ms', refFull.medianMs, 'ms', `median of 15; min ${refFull.minMs.toFixed(1)} ms; loss + all ${refFull.trainedParams} gradients fetched`);
  put('reference.step.gflop', refFlops.total / 1e9, 'GFLOP', `MatMul FLOPs fwd ${(refFlops.forward / 1e9).toFixed(2)} + bwd ${(refFlops.backward / 1e9).toFixed(2)}`);
  put('reference.step.gflops', refGflops, 'GFLOP/s');
  put('reference.session_create.ms', refFull.sessionMs, 'ms');
  const refLora = await measureTrainStep({ dims: REFERENCE_DIMS, mode: 'lora', ...REF, warmup: 3, runs: 15, threads: THREADS });
  const refLoraFlops = trainStepFlops(refCfg, { ...REF, mode: 'lora', loraRank: LORA_RANK, loraTargets: LORA_TARGETS });
  put('reference.lora_step.ms', refLora.medianMs, 'ms', `LoRA r=${LORA_RANK} on ${LORA_TARGETS.join(',')}, median of 15`);
  put('reference.lora_step.gflops', gflops(refLoraFlops.total, refLora.medianMs), 'GFLOP/s', `${(refLoraFlops.total / 1e9).toFixed(2)} GFLOP`);

  // 3. PyTorch reference
  log('3/5 PyTorch CPU reference step');
  let torchBest: TorchRun | null = null;
  try {
    const runs = await torchStep(REFERENCE_DIMS);
    runs.forEach((r, i) => put(`torch.step.ms.setting${i + 1}`, r.median_ms, 'ms', r.label));
    torchBest = runs.reduce((a, b) => (b.median_ms < a.median_ms ? b : a));
    const openblas = torchBest.blas.some((b) => b.includes('openblas'));
    put('torch.step.ms', torchBest.median_ms, 'ms', `torch ${torchBest.torch}, best setting: ${torchBest.label}; BLAS ${openblas ? 'OpenBLAS' : 'NOT OpenBLAS: ' + torchBest.blas.join(' ')}`);
    put('torch.step.gflops', gflops(refFlops.total, torchBest.median_ms), 'GFLOP/s');
  } catch (e) {
    put('torch.step.ms', NaN, 'ms', `PyTorch run failed: ${(e as Error).message.split('\n')[0]}`);
  }

  // 4. 12-layer d=768 model, each mode in its own child process
  const largeCfg = benchConfig(LARGE_DIMS);
  const large: Partial<Record<TrainMode, ChildResult>> = {};
  for (const mode of ['full', 'lora'] as const) {
    log(`4/5 12-layer d=768 ${mode} step (child process)`);
    try {
      const r = await stepInChild({ dims: LARGE_DIMS, mode, ...LARGE, warmup: 1, runs: 3, threads: THREADS });
      large[mode] = r;
      const f = trainStepFlops(largeCfg, { ...LARGE, mode, loraRank: LORA_RANK, loraTargets: LORA_TARGETS });
      const what = mode === 'full' ? 'full fine-tuning' : `LoRA r=${LORA_RANK} ${LORA_TARGETS.join(',')}`;
      put(`l12.${mode}.step.ms`, r.medianMs, 'ms', `${what}, ${(r.params / 1e6).toFixed(1)}M params (${r.trainedParams} trained), B=1 T=512, median of 3`);
      put(`l12.${mode}.step.gflops`, gflops(f.total, r.medianMs), 'GFLOP/s', `${(f.total / 1e9).toFixed(1)} GFLOP (fwd ${(f.forward / 1e9).toFixed(1)})`);
      put(`l12.${mode}.session_create.ms`, r.sessionMs, 'ms', `graph build + toOnnx ${r.graphMs.toFixed(0)} ms, model ${(r.modelBytes / 2 ** 20).toFixed(0)} MiB`);
      put(`l12.${mode}.peak_rss.gb`, r.maxRssKb / 2 ** 20, 'GiB', `child maxRSS (VmHWM ${r.vmHwmKb ?? '?'} kB), incl. random weights built in memory`);
    } catch (e) {
      put(`l12.${mode}.step.ms`, NaN, 'ms', `failed: ${(e as Error).message.split('\n')[0]}`);
    }
  }

  // 5. decode: batched group vs sequential singles
  log('5/5 sampler decode, group of 8 batched vs 8 sequential');
  const dec = await decodeBench({ dims: DECODE_DIMS, group: 8, promptLen: 32, maxNewTokens: 64, runs: 3 });
  const decNote = `${(dec.params / 1e6).toFixed(1)}M-param model (4 layers, d=256, vocab 2048), prompt 32, 64 new tokens, temperature 1, median of 3`;
  put('decode.batched.tok_per_s', dec.batchedTokPerS, 'tok/s', `group of 8, one prefill; ${decNote}`);
  put('decode.sequential.tok_per_s', dec.sequentialTokPerS, 'tok/s', '8 sample() calls of 1 completion each');
  put('decode.batched_greedy.tok_per_s', (dec.tokens / dec.greedyBatchedMs) * 1000, 'tok/s', 'same batch, temperature 0: the difference is JS sampling cost');

  // targets
  target('reference_step_vs_peak', refGflops / peak, 'ratio', `>= ${TARGETS.stepVsPeak} of MatMul peak`, refGflops / peak >= TARGETS.stepVsPeak);
  if (torchBest) {
    const s = torchBest.median_ms / refFull.medianMs;
    target('torch_ms_over_ours', s, 'x', `>= ${TARGETS.torchSpeedup}x`, s >= TARGETS.torchSpeedup);
  }
  if (large.lora) {
    const gb = (large.lora.maxRssKb * 1024) / 1e9;
    target('lora_step_rss_gb', gb, 'GB', `< ${TARGETS.loraRssGb} GB`, gb < TARGETS.loraRssGb);
  }
  const sp = dec.batchedTokPerS / dec.sequentialTokPerS;
  target('batched_decode_speedup', sp, 'x', `>= ${TARGETS.batchedDecodeSpeedup}x`, sp >= TARGETS.batchedDecodeSpeedup);

  put('host.load_avg_1m.end', os.loadavg()[0], 'procs');
  put('suite.wall.s', (performance.now() - started) / 1000, 's');
  return m;
}
