// ONNX Runtime fp32 MatMul peak: a chain of large square MatMuls built with GraphBuilder and run through
// Session. Weights as initializers (ORT pre-packs them, the fastest case) and as graph inputs (what a fully
// trained weight looks like to ORT). Best of several runs: the peak is what the machine can do when the noisy
// host leaves it alone.
import { GraphBuilder, Session } from '@ragrpo/graph';
import { mulberry32 } from '@ragrpo/config';

export interface MatmulPeak {
  size: number;
  chain: number;
  flopsPerRun: number;
  bestMs: number;
  medianMs: number;
  gflops: number;
  medianGflops: number;
}

export async function matmulPeak(o: { size: number; chain: number; weightsAsInputs: boolean; threads: number; warmup: number; runs: number }): Promise<MatmulPeak> {
  const n = o.size;
  const rng = mulberry32(11);
  // U(-a, a) with a = sqrt(3/n): each product keeps the activations' scale (no overflow, no denormals).
  const a = Math.sqrt(3 / n);
  const rand = (len: number, amp: number) => Float32Array.from({ length: len }, () => (2 * rng() - 1) * amp);
  const g = new GraphBuilder({ name: 'matmul_peak' });
  let y = g.input('x', [n, n]);
  const feeds: Record<string, { data: Float32Array; dims: number[] }> = { x: { data: rand(n * n, 1), dims: [n, n] } };
  for (let i = 0; i < o.chain; i++) {
    const w = rand(n * n, a);
    const name = `w${i}`;
    if (o.weightsAsInputs) feeds[name] = { data: w, dims: [n, n] };
    y = g.matmul(y, o.weightsAsInputs ? g.input(name, [n, n]) : g.initializer(name, w, [n, n]));
  }
  g.output('y', y);
  const session = await Session.create(g.toOnnx(), { threads: o.threads });
  for (let i = 0; i < o.warmup; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  await session.release();
  times.sort((p, q) => p - q);
  const flopsPerRun = 2 * n * n * n * o.chain;
  const bestMs = times[0];
  const medianMs = times[Math.floor(times.length / 2)];
  return { size: n, chain: o.chain, flopsPerRun, bestMs, medianMs, gflops: flopsPerRun / bestMs / 1e6, medianGflops: flopsPerRun / medianMs / 1e6 };
}
