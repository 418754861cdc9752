/**
 * Float64 central-finite-difference gradient checker used by the tests: builds the
 * graph in float64, differentiates it with grad(), then perturbs every input element
 * (or a seeded sample of them) in JS and re-runs ORT.
 */
import { mulberry32 } from '@ragrpo/config';
import { GraphBuilder, Session } from '../src/index.ts';
import type { Feed, Tensor } from '../src/index.ts';

/** mulberry32, so tests are reproducible. */
export const rng = mulberry32;

export function randn(r: () => number, n: number, scale = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12);
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  }
  return out;
}

export interface CheckInput {
  name: string;
  shape: number[];
  /** Values; defaults to N(0,1) from the seeded generator. */
  data?: Float64Array;
}

export interface CheckResult {
  worst: number;
  perTensor: Record<string, number>;
  analytic: Record<string, Float64Array>;
  nodes: number;
}

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

/**
 * `build` maps the float64 inputs to an output tensor y; the checked loss is
 * sum(y * R) with a fixed random R, so every element of the VJP is exercised.
 */
export async function gradCheck(
  inputs: CheckInput[],
  build: (b: GraphBuilder, xs: Tensor[]) => Tensor,
  opts: { seed?: number; h?: number; maxPerTensor?: number; extraFeeds?: Record<string, Feed>; recompute?: boolean; opset?: number } = {},
): Promise<CheckResult> {
  const r = rng(opts.seed ?? 1);
  const h = opts.h ?? 1e-6;
  const b = new GraphBuilder({ floatType: 'float64', name: 'gradcheck', opset: opts.opset });
  const xs = inputs.map((i) => b.input(i.name, i.shape));
  const y = build(b, xs);
  const R = b.constant(randn(r, numel([...y.shape])), [...y.shape]);
  const loss = b.reduceSum(b.mul(y, R));
  const grads = b.grad(loss, xs, { recompute: opts.recompute });
  b.output('loss', loss);
  grads.forEach((g, i) => b.output(`grad_${inputs[i].name}`, g));
  const session = await Session.create(b.toOnnx(), { threads: 1 });
  const feeds: Record<string, Feed> = { ...(opts.extraFeeds ?? {}) };
  inputs.forEach((i) => (feeds[i.name] = { data: i.data ? Float64Array.from(i.data) : randn(r, numel(i.shape)), dims: i.shape }));
  const base = await session.run(feeds);
  const perTensor: Record<string, number> = {};
  const analytic: Record<string, Float64Array> = {};
  const lossAt = async () => ((await session.run(feeds, ['loss'])).loss.data as Float64Array)[0];
  for (const inp of inputs) {
    const a = base[`grad_${inp.name}`].data as Float64Array;
    analytic[inp.name] = a;
    const x = feeds[inp.name].data as Float64Array;
    const n = x.length;
    const max = opts.maxPerTensor ?? 48;
    const idx = n <= max ? [...Array(n).keys()] : Array.from({ length: max }, () => Math.floor(r() * n));
    let errMax = 0;
    let scale = 0;
    for (const i of idx) {
      const keep = x[i];
      x[i] = keep + h;
      const up = await lossAt();
      x[i] = keep - h;
      const down = await lossAt();
      x[i] = keep;
      const num = (up - down) / (2 * h);
      errMax = Math.max(errMax, Math.abs(num - a[i]));
      scale = Math.max(scale, Math.abs(num), Math.abs(a[i]));
    }
    // Error relative to the gradient's scale: robust to individual near-zero entries.
    perTensor[inp.name] = errMax / Math.max(scale, 1e-12);
  }
  await session.release();
  const worst = Math.max(0, ...Object.values(perTensor));
  return { worst, perTensor, analytic, nodes: b.nodes().length };
}
