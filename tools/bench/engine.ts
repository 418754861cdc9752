// `npm run bench -- engine`: the training engine's benchmark (issue #3). One run measures
//   1. ORT fp32 MatMul peak at 2 intra-op threads (GraphBuilder + Session, best of several runs);
//   2. a forward+backward step of the reference shape (1 layer, B=8, T=128, d=256, 4 heads, MLP 768, vocab 2048)
//      built with @ragrpo/model's decoder graph, all weights trained; ms and MatMul GFLOP/s (engine-flops.ts);
//   3. the same step in PyTorch CPU (torch_step.py), best thread setting, and torch_ms / ours_ms; then our step
//      under ORT's profiler: MatMul kernel ms vs the rest (engine-profile.ts), which caps that ratio;
//   4. 12 layers, d=768, vocab 32000, tied head (138M params), B=1, T=512: full fine-tuning and LoRA r=16 steps
//      with the trainer's session settings, each in its own child process (session creation, step time, peak RSS);
//   5. sampler decode throughput: a group of 8 decoded as one batch vs 8 sequential single completions, on a
//      small model and on the 12-layer one.
// Targets are reported as extra `target.*` metrics (the ratio, and `.met` 1/0); a missed target never fails the run.
// Timings are medians after warm-up runs except the MatMul peak (best run). The host is a shared 2-vCPU machine
// where other engineers run tests, so figures move by tens of percent between runs; the load average is recorded.
import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Metrics } from './report.ts';
import { decodeBench, type DecodeResult } from './engine-decode.ts';
import { trainStepFlops } from './engine-flops.ts';
import { matmulPeak } from './engine-matmul.ts';
import { profileTrainStep, type KernelProfile } from './engine-profile.ts';
import { benchConfig, DECODE_DIMS, LARGE_DIMS, LORA_RANK, LORA_TARGETS, REFERENCE_DIMS, type ModelDims, type TrainMode } from './engine-models.ts';
import { measureTrainStep, median, prepareTrainStep, timeSteps, type StepRequest, type StepResult } from './engine-step.ts';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const THREADS = 2;
const REF = { batch: 8, seqLen: 128 };
const LARGE = { batch: 1, seqLen: 512 };
const ROUNDS = 4;
const LARGE_RUNS = 4;
const DECODE_RUNS = 3;

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
  runs_ms: number[];
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
    ...['--batch', REF.batch, '--seq', REF.seqLen, '--warmup', 3, '--runs', 8],
  ].map(String);
  const out: TorchRun[] = [];
  for (const s of settings) {
    const env = { ...process.env, ...s.env, OPENBLAS_NUM_THREADS: String(s.blas), OMP_NUM_THREADS: String(s.torch) };
    const { stdout } = await run('/usr/bin/python3', [...args, '--threads', String(s.torch)], { env, maxBuffer: 1 << 20 });
    const r = JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
    out.push({ label: s.label, runs_ms: r.best.runs_ms, blas: r.blas, torch: r.torch });
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

  // 1, 2, 3 run interleaved in ROUNDS rounds (MatMul peak, our step at 2 and 1 threads, PyTorch), so the peak,
  // our step and PyTorch's step see the same host load: on this shared host a figure can halve between minutes.
  // MatMul peak: several square sizes (cache behaviour differs), best run over all rounds and sizes.
  log(`1-3/5 MatMul peak, reference step (1 layer, B=8, T=128) and PyTorch reference, ${ROUNDS} interleaved rounds`);
  const mmSizes = [256, 512, 1024];
  const mmBest = new Map<string, number>();
  const mmMedians = new Map<string, number[]>();
  const matmulRound = async () => {
    for (const [key, size, asInputs] of [...mmSizes.map((n) => [String(n), n, false] as const), ['1024.weights_as_inputs', 1024, true] as const]) {
      const r = await matmulPeak({ size, chain: 4, weightsAsInputs: asInputs, threads: THREADS, warmup: 2, runs: 5 });
      mmBest.set(key, Math.max(mmBest.get(key) ?? 0, r.gflops));
      mmMedians.set(key, [...(mmMedians.get(key) ?? []), r.medianGflops]);
    }
  };

  // 2 + 3. reference step, ours and PyTorch's, interleaved in rounds so both see the same host load. Each side
  // gets the better of 1 and 2 threads (torch: settings in torchStep); the vs-peak target uses our 2-thread step.
  const refCfg = benchConfig(REFERENCE_DIMS);
  const refFlops = trainStepFlops(refCfg, { ...REF, mode: 'full' });
  const ours = {
    2: await prepareTrainStep({ dims: REFERENCE_DIMS, mode: 'full', ...REF, warmup: 3, runs: 0, threads: 2 }),
    1: await prepareTrainStep({ dims: REFERENCE_DIMS, mode: 'full', ...REF, warmup: 3, runs: 0, threads: 1 }),
  };
  const oursMs: Record<1 | 2, number[]> = { 1: [], 2: [] };
  const torchMs = new Map<string, { label: string; ms: number[]; blas: string[]; torch: string }>();
  let torchError = '';
  for (let round = 0; round < ROUNDS; round++) {
    await matmulRound();
    const t2 = await timeSteps(ours[2], 8);
    const t1 = await timeSteps(ours[1], 8);
    oursMs[2].push(...t2);
    oursMs[1].push(...t1);
    log(`  round ${round + 1}: our step median ${median(t2).toFixed(0)} ms (2 threads), ${median(t1).toFixed(0)} ms (1 thread); load ${os.loadavg()[0].toFixed(1)}`);
    if (torchError) continue;
    try {
      for (const r of await torchStep(REFERENCE_DIMS)) {
        const e = torchMs.get(r.label) ?? { label: r.label, ms: [], blas: r.blas, torch: r.torch };
        e.ms.push(...r.runs_ms);
        torchMs.set(r.label, e);
      }
    } catch (e) {
      torchError = (e as Error).message.split('\n')[0];
    }
  }
  await ours[1].session.release();
  await ours[2].session.release();
  let peak = 0;
  for (const n of mmSizes) {
    put(`matmul.${n}.best`, (mmBest.get(String(n)) ?? NaN), 'GFLOP/s', `4 chained ${n}^3 MatMuls, weights as initializers, best run of ${ROUNDS}x5`);
    put(`matmul.${n}.median`, median(mmMedians.get(String(n)) ?? [NaN]), 'GFLOP/s', 'median of the per-round medians');
    peak = Math.max(peak, (mmBest.get(String(n)) ?? NaN));
  }
  put('matmul.1024.weights_as_inputs.best', (mmBest.get("1024.weights_as_inputs") ?? NaN), 'GFLOP/s', 'weights fed as inputs: no ORT pre-packing (how full fine-tuning feeds weights)');
  put('matmul.peak', peak, 'GFLOP/s', `best over sizes and rounds, ${THREADS} intra-op threads`);
  const ref2 = median(oursMs[2]);
  const ref1 = median(oursMs[1]);
  const refBest = Math.min(ref1, ref2);
  const refGflops = gflops(refFlops.total, ref2);
  put('reference.step.ms', ref2, 'ms', `2 threads, median of ${oursMs[2].length} over ${ROUNDS} rounds; min ${Math.min(...oursMs[2]).toFixed(1)} ms; loss + all ${ours[2].info.trainedParams} gradients fetched`);
  put('reference.step.gflops', refGflops, 'GFLOP/s', `2 threads; best-run ${gflops(refFlops.total, Math.min(...oursMs[2])).toFixed(1)} GFLOP/s`);
  put('reference.step.1thread.ms', ref1, 'ms', `1 thread, median of ${oursMs[1].length}`);
  put('reference.step.gflop', refFlops.total / 1e9, 'GFLOP', `MatMul FLOPs fwd ${(refFlops.forward / 1e9).toFixed(2)} + bwd ${(refFlops.backward / 1e9).toFixed(2)}`);
  put('reference.session_create.ms', ours[2].info.sessionMs, 'ms');
  const refLora = await measureTrainStep({ dims: REFERENCE_DIMS, mode: 'lora', ...REF, warmup: 3, runs: 15, threads: THREADS });
  const refLoraFlops = trainStepFlops(refCfg, { ...REF, mode: 'lora', loraRank: LORA_RANK, loraTargets: LORA_TARGETS });
  put('reference.lora_step.ms', refLora.medianMs, 'ms', `LoRA r=${LORA_RANK} on ${LORA_TARGETS.join(',')}, 2 threads, median of 15`);
  put('reference.lora_step.gflops', gflops(refLoraFlops.total, refLora.medianMs), 'GFLOP/s', `${(refLoraFlops.total / 1e9).toFixed(2)} GFLOP`);

  type TorchBest = { label: string; ms: number; blas: string[]; torch: string };
  const torchSettings: TorchBest[] = [...torchMs.values()].map((t) => ({ label: t.label, ms: median(t.ms), blas: t.blas, torch: t.torch }));
  torchSettings.forEach((t, i) => put(`torch.step.ms.setting${i + 1}`, t.ms, 'ms', `${t.label}, median of ${torchMs.get(t.label)?.ms.length}`));
  const torchBest: TorchBest | null = torchSettings.reduce<TorchBest | null>((a, b) => (a && a.ms <= b.ms ? a : b), null);
  if (!torchBest) put('torch.step.ms', NaN, 'ms', `PyTorch run failed: ${torchError}`);
  else {
    const openblas = torchBest.blas.some((b) => b.includes('openblas'));
    const blas = openblas ? 'OpenBLAS' : 'NOT OpenBLAS (install libopenblas0-pthread): ' + torchBest.blas.join(' ');
    put('torch.step.ms', torchBest.ms, 'ms', `torch ${torchBest.torch}, best setting: ${torchBest.label}; BLAS ${blas}`);
    put('torch.step.gflops', gflops(refFlops.total, torchBest.ms), 'GFLOP/s');
  }

  // 3b. where the reference step's time goes (ORT's profiler): the MatMul kernels bound any graph-level speed-up.
  let kernelProfile: KernelProfile | null = null;
  try {
    kernelProfile = await profileTrainStep({ dims: REFERENCE_DIMS, ...REF, threads: THREADS, warmup: 3, runs: 8 });
    const top = kernelProfile.byOp.slice(0, 6).map(([op, ms]) => `${op} ${ms.toFixed(1)}`).join(', ');
    put('reference.step.matmul_kernel_ms', kernelProfile.matmulMs, 'ms', `MatMul/FusedMatMul/Gemm kernel time per step (ORT profiler, median of ${kernelProfile.runs}); ${gflops(refFlops.total, kernelProfile.matmulMs).toFixed(0)} GFLOP/s in the GEMMs`);
    put('reference.step.other_kernel_ms', kernelProfile.otherMs, 'ms', `every other kernel; by op (ms): ${top}`);
  } catch (e) {
    put('reference.step.matmul_kernel_ms', NaN, 'ms', `profile failed: ${(e as Error).message.split('\n')[0]}`);
  }

  // 4. 12-layer d=768 model, each variant in its own child process, with the session settings @ragrpo/model's
  // trainer uses: frozen weights handed to ORT as in-memory external data (no protobuf copy) and ORT's memory arena
  // off for training graphs (SessionPool's default), so tensors are freed at last use.
  const largeCfg = benchConfig(LARGE_DIMS);
  const trainerSessions: Partial<StepRequest> = { externalData: true, memArena: false };
  const variants: { key: string; mode: TrainMode; what: string; extra: Partial<StepRequest> }[] = [
    { key: 'full', mode: 'full', what: 'full fine-tuning', extra: trainerSessions },
    { key: 'lora', mode: 'lora', what: `LoRA r=${LORA_RANK} ${LORA_TARGETS.join(',')}`, extra: trainerSessions },
  ];
  const large: Record<string, ChildResult> = {};
  for (const v of variants) {
    log(`4/5 12-layer d=768 ${v.key} step (child process)`);
    try {
      const r = await stepInChild({ dims: LARGE_DIMS, mode: v.mode, ...LARGE, warmup: 1, runs: LARGE_RUNS, threads: THREADS, ...v.extra });
      large[v.key] = r;
      const f = trainStepFlops(largeCfg, { ...LARGE, mode: v.mode, loraRank: LORA_RANK, loraTargets: LORA_TARGETS });
      const rss = r.rssMiB;
      put(`l12.${v.key}.step.ms`, r.medianMs, 'ms', `${v.what}, ${(r.params / 1e6).toFixed(1)}M params (${r.trainedParams} trained), B=1 T=512, median of ${LARGE_RUNS} (min ${r.minMs.toFixed(0)})`);
      put(`l12.${v.key}.step.gflops`, gflops(f.total, r.medianMs), 'GFLOP/s', `${(f.total / 1e9).toFixed(1)} GFLOP (fwd ${(f.forward / 1e9).toFixed(1)})`);
      put(`l12.${v.key}.session_create.ms`, r.sessionMs, 'ms', `plus graph build + toOnnx ${r.graphMs.toFixed(0)} ms; model bytes ${(r.modelBytes / 2 ** 20).toFixed(0)} MiB`);
      put(
        `l12.${v.key}.peak_rss.gb`,
        (r.maxRssKb * 1024) / 1e9,
        'GB',
        `child maxRSS; RSS MiB after weights ${rss.weights.toFixed(0)}, graph ${rss.graph.toFixed(0)}, session ${rss.session.toFixed(0)}, steps ${rss.steps.toFixed(0)}`,
      );
    } catch (e) {
      put(`l12.${v.key}.step.ms`, NaN, 'ms', `failed: ${(e as Error).message.split('\n')[0]}`);
    }
  }

  // 5. decode: batched group vs sequential singles, on a small model (per-run overhead dominates) and on the
  // 12-layer policy size this machine trains (weight reads dominate, as they do for real policies).
  log('5/5 sampler decode, group of 8 batched vs 8 sequential');
  const decodeCases = [
    { key: 'decode', dims: DECODE_DIMS, maxNewTokens: 64, runs: DECODE_RUNS, what: '4 layers, d=256, vocab 2048' },
    { key: 'decode.l12', dims: LARGE_DIMS, maxNewTokens: 32, runs: 1, what: '12 layers, d=768, vocab 32000' },
  ];
  const decoded: Record<string, DecodeResult> = {};
  for (const c of decodeCases) {
    try {
      const dec = await decodeBench({ dims: c.dims, group: 8, promptLen: 32, maxNewTokens: c.maxNewTokens, runs: c.runs });
      decoded[c.key] = dec;
      const decNote = `${(dec.params / 1e6).toFixed(1)}M-param model (${c.what}), prompt 32, ${c.maxNewTokens} new tokens, temperature 1, median of ${c.runs}`;
      put(`${c.key}.batched.tok_per_s`, dec.batchedTokPerS, 'tok/s', `group of 8, one prefill; ${decNote}`);
      put(`${c.key}.sequential.tok_per_s`, dec.sequentialTokPerS, 'tok/s', '8 sample() calls of 1 completion each');
      put(`${c.key}.batched_greedy.tok_per_s`, (dec.tokens / dec.greedyBatchedMs) * 1000, 'tok/s', 'temperature 0');
      put(`${c.key}.sequential_greedy.tok_per_s`, (dec.tokens / dec.greedySequentialMs) * 1000, 'tok/s', 'temperature 0');
      put(`${c.key}.greedy_speedup`, dec.greedySequentialMs / dec.greedyBatchedMs, 'x', 'batched vs sequential at temperature 0');
    } catch (e) {
      put(`${c.key}.batched.tok_per_s`, NaN, 'tok/s', `failed: ${(e as Error).message.split('\n')[0]}`);
    }
  }

  // targets
  target('reference_step_vs_peak', refGflops / peak, 'ratio', `>= ${TARGETS.stepVsPeak} of MatMul peak`, refGflops / peak >= TARGETS.stepVsPeak);
  if (torchBest) {
    const tb = torchBest.ms;
    const sp = tb / refBest;
    target('torch_ms_over_ours', sp, 'x', `>= ${TARGETS.torchSpeedup}x (each side at its better of 1 and 2 threads; ours at 2 threads: ${(tb / ref2).toFixed(2)}x)`, sp >= TARGETS.torchSpeedup);
  }
  if (large.lora) {
    const gb = (large.lora.maxRssKb * 1024) / 1e9;
    target('lora_step_rss_gb', gb, 'GB', `< ${TARGETS.loraRssGb} GB (the trainer's session settings)`, gb < TARGETS.loraRssGb);
  }
  // Best runs (what the machine does when the host leaves it alone): context for the median-based targets above.
  const ref2Min = Math.min(...oursMs[2]);
  put('info.best_runs.step_vs_peak', gflops(refFlops.total, ref2Min) / peak, 'ratio', 'fastest 2-thread step vs MatMul peak');
  const torchMin = Math.min(...[...torchMs.values()].flatMap((t) => t.ms));
  if (Number.isFinite(torchMin)) put('info.best_runs.torch_ms_over_ours', torchMin / Math.min(ref2Min, ...oursMs[1]), 'x', 'fastest torch run / our fastest run');
  if (torchBest && kernelProfile) {
    put('info.torch_ms_over_our_matmul_ms', torchBest.ms / kernelProfile.matmulMs, 'x', "ceiling of torch_ms_over_ours: PyTorch's whole step over our MatMul kernels alone (no other op, no overhead)");
  }
  for (const [key, dec] of Object.entries(decoded)) {
    const sp = dec.batchedTokPerS / dec.sequentialTokPerS;
    const name = key === 'decode' ? 'batched_decode_speedup' : 'batched_decode_speedup.l12';
    const model = key === 'decode' ? '4.5M-param model' : '138M-param 12-layer model';
    target(name, sp, 'x', `>= ${TARGETS.batchedDecodeSpeedup}x (temperature 1, ${model})`, sp >= TARGETS.batchedDecodeSpeedup);
  }

  Object.assign(m, await (await import('./engine-smollm2.ts')).smollm2Bench()); // SmolLM2-135M: prefill/decode tok/s, a LoRA GRPO step, transformers as the peer
  put('host.load_avg_1m.end', os.loadavg()[0], 'procs');
  put('suite.wall.s', (performance.now() - started) / 1000, 's');
  return m;
}
