// Where the reference step's time goes, from ORT's own profiler: kernel time per run split into MatMul
// (MatMul, FusedMatMul, Gemm) and everything else. The MatMul share bounds what graph-level work can win:
// a step can never be faster than its GEMMs, so torch_ms / matmul_ms caps the speed-up over PyTorch.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Session } from '@ragrpo/graph';
import { benchModel, benchPolicy, trainStepFeeds, trainStepGraph, type ModelDims } from './engine-models.ts';

export interface KernelProfile {
  runs: number;
  /** kernel ms per run, medians over runs */
  matmulMs: number;
  otherMs: number;
  /** kernel ms per run by op type (means), largest first */
  byOp: [string, number][];
}

const MATMUL_OPS = new Set(['MatMul', 'FusedMatMul', 'Gemm']);

interface TraceEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string };
}

export async function profileTrainStep(o: { dims: ModelDims; batch: number; seqLen: number; threads: number; warmup: number; runs: number }): Promise<KernelProfile> {
  const policy = benchPolicy(benchModel(o.dims), 'full');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ragrpo-prof-'));
  try {
    const session = await Session.create(trainStepGraph(policy, o.batch, o.seqLen), { threads: o.threads, profilePrefix: path.join(dir, 'step') });
    const feeds = trainStepFeeds(policy, o.batch, o.seqLen);
    for (let i = 0; i < o.warmup + o.runs; i++) await session.run(feeds);
    const file = session.endProfiling();
    await session.release();
    const events = JSON.parse(fs.readFileSync(file, 'utf8')) as TraceEvent[];
    // One 'model_run' event per run brackets its kernels; keep the timed runs' kernels only.
    const runsAt = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
    const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
    const perRun = kernels.length / runsAt.length;
    if (!Number.isInteger(perRun)) throw new Error(`ORT profile: ${kernels.length} kernel events over ${runsAt.length} runs`);
    const timed = kernels.slice(o.warmup * perRun);
    const mm: number[] = Array(o.runs).fill(0);
    const other: number[] = Array(o.runs).fill(0);
    const byOp = new Map<string, number>();
    timed.forEach((e, i) => {
      const op = e.args?.op_name ?? '?';
      const ms = e.dur / 1000;
      (MATMUL_OPS.has(op) ? mm : other)[Math.floor(i / perRun)] += ms;
      byOp.set(op, (byOp.get(op) ?? 0) + ms / o.runs);
    });
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return { runs: o.runs, matmulMs: med(mm), otherMs: med(other), byOp: [...byOp].sort((a, b) => b[1] - a[1]) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
