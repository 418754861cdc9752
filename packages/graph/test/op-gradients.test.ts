/**
 * Every op's VJP against float64 central finite differences through ORT.
 * Threshold 1e-6 relative to each gradient's scale (h = 1e-6 gives ~1e-9 here).
 */
import { describe, expect, it } from 'vitest';
import { gradCheck, randn, rng } from './gradcheck.ts';
import type { CheckInput } from './gradcheck.ts';
import type { GraphBuilder, Tensor } from '../src/index.ts';

const TOL = 1e-6;
type Build = (b: GraphBuilder, xs: Tensor[]) => Tensor;
interface Case {
  name: string;
  inputs: CheckInput[];
  build: Build;
}

/** Values bounded away from 0 (for log/sqrt/div/pow) and kinks. */
function positive(n: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => 0.5 + 1.5 * r());
}
/** Values at least 0.05 away from the kinks of relu/abs/clip/max. */
function awayFrom(n: number, seed: number, kinks: number[]): Float64Array {
  const r = rng(seed);
  const out = randn(r, n);
  for (let i = 0; i < n; i++) while (kinks.some((k) => Math.abs(out[i] - k) < 0.05)) out[i] += 0.11;
  return out;
}
const inp = (name: string, shape: number[], data?: Float64Array): CheckInput => ({ name, shape, data });

const cases: Case[] = [
  // broadcasting binary ops: scalar, row, column and leading-axis broadcasts
  { name: 'add [2,3,4]+[4]', inputs: [inp('a', [2, 3, 4]), inp('b', [4])], build: (b, [x, y]) => b.add(x, y) },
  { name: 'add [3,1]+[1,4] (both broadcast)', inputs: [inp('a', [3, 1]), inp('b', [1, 4])], build: (b, [x, y]) => b.add(x, y) },
  { name: 'sub [2,1,4]-[3,1]', inputs: [inp('a', [2, 1, 4]), inp('b', [3, 1])], build: (b, [x, y]) => b.sub(x, y) },
  { name: 'mul [2,3,4]*[2,1,4]', inputs: [inp('a', [2, 3, 4]), inp('b', [2, 1, 4])], build: (b, [x, y]) => b.mul(x, y) },
  { name: 'mul by scalar tensor []', inputs: [inp('a', [3, 4]), inp('b', [])], build: (b, [x, y]) => b.mul(x, y) },
  { name: 'div [3,4]/[4]', inputs: [inp('a', [3, 4]), inp('b', [4], positive(4, 3))], build: (b, [x, y]) => b.div(x, y) },
  { name: 'div number/tensor', inputs: [inp('a', [5], positive(5, 4))], build: (b, [x]) => b.div(2, x) },
  { name: 'neg', inputs: [inp('a', [3, 4])], build: (b, [x]) => b.neg(x) },
  { name: 'exp', inputs: [inp('a', [3, 4])], build: (b, [x]) => b.exp(x) },
  { name: 'log', inputs: [inp('a', [3, 4], positive(12, 5))], build: (b, [x]) => b.log(x) },
  { name: 'sqrt', inputs: [inp('a', [3, 4], positive(12, 6))], build: (b, [x]) => b.sqrt(x) },
  { name: 'rsqrt', inputs: [inp('a', [3, 4], positive(12, 7))], build: (b, [x]) => b.rsqrt(x) },
  { name: 'reciprocal', inputs: [inp('a', [3, 4], positive(12, 8))], build: (b, [x]) => b.reciprocal(x) },
  { name: 'pow 2', inputs: [inp('a', [3, 4])], build: (b, [x]) => b.pow(x, 2) },
  { name: 'pow 3', inputs: [inp('a', [3, 4])], build: (b, [x]) => b.pow(x, 3) },
  { name: 'pow -0.5', inputs: [inp('a', [3, 4], positive(12, 9))], build: (b, [x]) => b.pow(x, -0.5) },
  { name: 'tanh', inputs: [inp('a', [3, 4])], build: (b, [x]) => b.tanh(x) },
  { name: 'sigmoid', inputs: [inp('a', [3, 4])], build: (b, [x]) => b.sigmoid(x) },
  { name: 'silu', inputs: [inp('a', [3, 4])], build: (b, [x]) => b.silu(x) },
  { name: 'relu', inputs: [inp('a', [3, 4], awayFrom(12, 10, [0]))], build: (b, [x]) => b.relu(x) },
  { name: 'abs', inputs: [inp('a', [3, 4], awayFrom(12, 11, [0]))], build: (b, [x]) => b.abs(x) },
  { name: 'sin', inputs: [inp('a', [3, 4])], build: (b, [x]) => b.sin(x) },
  { name: 'cos', inputs: [inp('a', [3, 4])], build: (b, [x]) => b.cos(x) },
  {
    name: 'maximum broadcast [3,4] vs [4]',
    inputs: [inp('a', [3, 4], awayFrom(12, 12, [])), inp('b', [4], Float64Array.from([0.31, -0.7, 1.2, -0.05]))],
    build: (b, [x, y]) => b.maximum(x, y),
  },
  {
    name: 'minimum broadcast [3,4] vs [3,1]',
    inputs: [inp('a', [3, 4], awayFrom(12, 13, [])), inp('b', [3, 1], Float64Array.from([0.33, -0.41, 0.93]))],
    build: (b, [x, y]) => b.minimum(x, y),
  },
  { name: 'clip [-0.5, 0.7]', inputs: [inp('a', [4, 5], awayFrom(20, 14, [-0.5, 0.7]))], build: (b, [x]) => b.clip(x, -0.5, 0.7) },
  {
    name: 'where broadcast cond [3,1], a [3,4], b [4]',
    inputs: [inp('a', [3, 4]), inp('b', [4])],
    build: (b, [x, y]) => b.where(b.constant([1, 0, 1], [3, 1], 'bool'), x, y),
  },
  { name: 'where from comparison', inputs: [inp('a', [3, 4], awayFrom(12, 15, [0]))], build: (b, [x]) => b.where(b.greater(x, 0), b.mul(x, x), b.neg(x)) },
  // matmul: plain, batched, shared-weight fold, broadcast batch on either side
  { name: 'matmul [3,4]x[4,5]', inputs: [inp('a', [3, 4]), inp('b', [4, 5])], build: (b, [x, y]) => b.matmul(x, y) },
  { name: 'matmul batched [2,3,4]x[2,4,5]', inputs: [inp('a', [2, 3, 4]), inp('b', [2, 4, 5])], build: (b, [x, y]) => b.matmul(x, y) },
  { name: 'matmul [2,2,3,4]x[4,5] (weight fold)', inputs: [inp('a', [2, 2, 3, 4]), inp('b', [4, 5])], build: (b, [x, y]) => b.matmul(x, y) },
  { name: 'matmul [3,4]x[2,4,5] (left broadcast)', inputs: [inp('a', [3, 4]), inp('b', [2, 4, 5])], build: (b, [x, y]) => b.matmul(x, y) },
  { name: 'matmul [2,1,3,4]x[1,2,4,5]', inputs: [inp('a', [2, 1, 3, 4]), inp('b', [1, 2, 4, 5])], build: (b, [x, y]) => b.matmul(x, y) },
  // softmax family
  { name: 'softmax last axis', inputs: [inp('a', [2, 3, 5])], build: (b, [x]) => b.softmax(x, -1) },
  { name: 'softmax axis 1', inputs: [inp('a', [2, 3, 5])], build: (b, [x]) => b.softmax(x, 1) },
  { name: 'logSoftmax last axis', inputs: [inp('a', [2, 3, 5])], build: (b, [x]) => b.logSoftmax(x, -1) },
  { name: 'logSoftmax axis 0', inputs: [inp('a', [2, 3, 5])], build: (b, [x]) => b.logSoftmax(x, 0) },
  {
    name: 'logSoftmaxGather last axis (fused token log-prob)',
    inputs: [inp('a', [2, 3, 5])],
    build: (b, [x]) => b.logSoftmaxGather(x, b.constant(new BigInt64Array([0n, 4n, 2n, 2n, 1n, 3n]), [2, 3, 1]), -1),
  },
  {
    name: 'logSoftmaxGather axis 1, two (repeated) picks per row, weighted',
    inputs: [inp('a', [2, 4, 3]), inp('w', [2, 2, 3])],
    build: (b, [x, w]) => b.mul(w, b.logSoftmaxGather(x, b.constant(new BigInt64Array([0n, 3n, 2n, 1n, 1n, 0n, 2n, 2n, 3n, 0n, 0n, 1n]), [2, 2, 3]), 1)),
  },
  {
    name: 'linearLogSoftmaxGather x [2,3,4] w [4,5] (fused LM-head log-prob, repeated targets)',
    inputs: [inp('x', [2, 3, 4]), inp('w', [4, 5])],
    build: (b, [x, w]) => b.linearLogSoftmaxGather(x, w, b.constant(new BigInt64Array([0n, 4n, 2n, 2n, 1n, 4n]), [2, 3, 1])),
  },
  {
    name: 'linearLogSoftmaxGather 2-D x, w transposed from [V, d] and reused',
    inputs: [inp('x', [3, 4]), inp('w', [6, 4])],
    build: (b, [x, w]) => b.add(b.linearLogSoftmaxGather(x, b.transpose(w, [1, 0]), b.constant(new BigInt64Array([5n, 0n, 3n]), [3, 1])), b.reduceSum(b.mul(w, w))),
  },
  {
    name: 'linearLogSoftmaxGatherEntropy log-probs (the backward reads the entropy pass softmax)',
    inputs: [inp('x', [2, 3, 4]), inp('w', [4, 5])],
    build: (b, [x, w]) => b.linearLogSoftmaxGatherEntropy(x, w, b.constant(new BigInt64Array([0n, 4n, 2n, 2n, 1n, 4n]), [2, 3, 1])).logprobs,
  },
  { name: 'rmsNorm [2,3,6] with weight', inputs: [inp('a', [2, 3, 6]), inp('w', [6])], build: (b, [x, w]) => b.rmsNorm(x, w, 1e-5) },
  { name: 'rmsNorm [4,5] large eps, reused input', inputs: [inp('a', [4, 5]), inp('w', [5])], build: (b, [x, w]) => b.mul(b.rmsNorm(x, w, 0.5), x) },
  // indexing
  {
    name: 'gather embedding (repeated ids, scatter-add)',
    inputs: [inp('table', [6, 4])],
    build: (b, [t]) => b.gather(t, b.constant(new BigInt64Array([1n, 3n, 1n, 5n, 0n, 1n]), [2, 3])),
  },
  {
    name: 'gather axis 1 with negative and repeated index',
    inputs: [inp('t', [2, 5, 3])],
    build: (b, [t]) => b.gather(t, b.constant(new BigInt64Array([4n, -1n, 2n, 0n]), [2, 2]), 1),
  },
  {
    name: 'gatherElements axis -1 (token log-prob pick)',
    inputs: [inp('a', [2, 3, 5])],
    build: (b, [x]) => b.gatherElements(x, b.constant(new BigInt64Array([0n, 4n, 2n, 2n, 1n, 3n]), [2, 3, 1]), -1),
  },
  {
    name: 'gatherElements axis 0 with repeats',
    inputs: [inp('a', [3, 4])],
    build: (b, [x]) => b.gatherElements(x, b.constant(new BigInt64Array([0n, 2n, 2n, 1n, 0n, 0n, 1n, 2n]), [2, 4]), 0),
  },
  // layout
  { name: 'slice unit step (pad grad)', inputs: [inp('a', [4, 6])], build: (b, [x]) => b.slice(x, [1, 2], [3, 5], [0, 1]) },
  { name: 'slice negative bounds', inputs: [inp('a', [4, 6])], build: (b, [x]) => b.slice(x, [-3], [-1], [1]) },
  { name: 'slice step 2 (scatter grad)', inputs: [inp('a', [4, 7])], build: (b, [x]) => b.slice(x, [0, 1], [4, 7], [0, 1], [1, 2]) },
  { name: 'slice reversed step -1', inputs: [inp('a', [5, 3])], build: (b, [x]) => b.slice(x, [-1], [-1e9], [0], [-1]) },
  { name: 'slice reversed partial range', inputs: [inp('a', [3, 7])], build: (b, [x]) => b.slice(x, [5, 2], [1, 0], [1, 0], [-1, -1]) },
  {
    name: 'swap halves by reversing a size-2 axis (RoPE)',
    inputs: [inp('a', [2, 3, 8])],
    build: (b, [x]) => b.mul(x, b.reshape(b.slice(b.reshape(x, [2, 3, 2, 4]), [-1], [-1e9], [2], [-1]), [2, 3, 8])),
  },
  { name: 'concat axis 1 (3 inputs)', inputs: [inp('a', [2, 3]), inp('b', [2, 1]), inp('c', [2, 2])], build: (b, xs) => b.concat(xs, 1) },
  { name: 'concat axis 0 with reuse', inputs: [inp('a', [2, 3]), inp('b', [1, 3])], build: (b, [x, y]) => b.concat([x, y, x], 0) },
  { name: 'transpose [0,2,3,1]', inputs: [inp('a', [2, 3, 4, 2])], build: (b, [x]) => b.transpose(x, [0, 2, 3, 1]) },
  { name: 'transpose of transpose folds', inputs: [inp('a', [2, 3, 4])], build: (b, [x]) => b.mul(b.transpose(b.transpose(x, [1, 2, 0]), [0, 2, 1]), 2) },
  {
    name: 'matmul [2,3,4] x transpose(W [5,4]) (weight stored [out,in])',
    inputs: [inp('a', [2, 3, 4]), inp('w', [5, 4])],
    build: (b, [x, w]) => b.matmul(x, b.transpose(w, [1, 0])),
  },
  { name: 'reshape with -1', inputs: [inp('a', [2, 3, 4])], build: (b, [x]) => b.reshape(x, [4, -1]) },
  { name: 'unsqueeze + squeeze', inputs: [inp('a', [3, 4])], build: (b, [x]) => b.mul(b.unsqueeze(x, [0, 2]), b.squeeze(b.unsqueeze(x, [1]), [1])) },
  { name: 'expand [3,1] -> [2,3,4]', inputs: [inp('a', [3, 1])], build: (b, [x]) => b.expand(x, [2, 3, 4]) },
  { name: 'cast to its own dtype passes the gradient through', inputs: [inp('a', [3])], build: (b, [x]) => b.cast(b.mul(x, x), 'float64') },
  // reductions
  { name: 'reduceSum axes [1] keepdims', inputs: [inp('a', [2, 3, 4])], build: (b, [x]) => b.reduceSum(x, [1], true) },
  { name: 'reduceSum axes [0,2]', inputs: [inp('a', [2, 3, 4])], build: (b, [x]) => b.reduceSum(x, [0, 2]) },
  { name: 'reduceSum all', inputs: [inp('a', [2, 3])], build: (b, [x]) => b.reduceSum(b.mul(x, x)) },
  { name: 'reduceMean axis -1 keepdims', inputs: [inp('a', [2, 3, 4])], build: (b, [x]) => b.reduceMean(x, [-1], true) },
  { name: 'reduceMean axes [0,1]', inputs: [inp('a', [2, 3, 4])], build: (b, [x]) => b.reduceMean(x, [0, 1]) },
  { name: 'reduceMax axis 1', inputs: [inp('a', [2, 3, 4])], build: (b, [x]) => b.reduceMax(x, [1]) },
  // gradient stops
  {
    name: 'stopGradient blocks one path (logsumexp shift)',
    inputs: [inp('a', [2, 5])],
    build: (b, [x]) => {
      const m = b.stopGradient(b.reduceMax(x, [1], true));
      return b.add(b.log(b.reduceSum(b.exp(b.sub(x, m)), [1], true)), m);
    },
  },
];

describe('op VJPs match float64 finite differences', () => {
  const worst: Record<string, number> = {};
  for (const c of cases) {
    it(c.name, async () => {
      const res = await gradCheck(c.inputs, c.build, { seed: 7 });
      worst[c.name] = res.worst;
      expect(res.worst).toBeLessThan(TOL);
      // A gradient that is identically zero would pass trivially; none of these should be.
      for (const [name, g] of Object.entries(res.analytic)) expect(g.some((v) => v !== 0), `${name} all zero`).toBe(true);
    });
  }
  it('reports the worst relative error', () => {
    const entries = Object.entries(worst).sort((a, b) => b[1] - a[1]);
    console.log(`worst relative error over ${entries.length} op checks: ${entries[0]?.[1].toExponential(2)} (${entries[0]?.[0]})`);
    expect(entries.length).toBe(cases.length);
  });
});

describe('other opsets', () => {
  // opset 17 passes ReduceMean/ReduceMax axes as attributes; 21 uses a newer IR version.
  for (const opset of [17, 21]) {
    it(`reductions, softmax, slice and scatter gradients at opset ${opset}`, async () => {
      const res = await gradCheck(
        [inp('a', [2, 3, 4]), inp('t', [5, 4])],
        (b, [x, t]) => {
          const m = b.add(b.reduceMean(x, [-1], true), b.reduceMax(x, [1], true));
          const e = b.gather(t, b.constant(new BigInt64Array([0n, 4n, 4n]), [3]));
          return b.add(b.softmax(b.slice(b.mul(x, m), [1], [4], [2]), -1), b.slice(e, [0], [3], [1]));
        },
        { seed: 11, opset },
      );
      expect(res.worst).toBeLessThan(TOL);
    });
  }
  it('rejects unsupported opsets clearly', async () => {
    const { GraphBuilder } = await import('../src/index.ts');
    expect(() => new GraphBuilder({ opset: 13 })).toThrow(/opset 13 unsupported/);
  });
});
