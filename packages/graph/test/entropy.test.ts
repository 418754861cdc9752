// linearLogSoftmaxGatherEntropy: the entropy of softmax(x·w) at every position, from the same log-softmax as
// the log-probs, and log-prob gradients identical to linearLogSoftmaxGather's.
import { describe, expect, it } from 'vitest';
import { GraphBuilder, Session } from '../src/index.ts';
import { randn, rng } from './gradcheck.ts';

describe('linearLogSoftmaxGatherEntropy', () => {
  const [B, T, d, V] = [2, 3, 4, 7];
  const xs = Float32Array.from(randn(rng(3), B * T * d));
  const ws = Float32Array.from(randn(rng(4), d * V, 0.8));
  const ids = BigInt64Array.from({ length: B * T }, (_, i) => BigInt((i * 3) % V));

  async function run(withEntropy: boolean) {
    const b = new GraphBuilder();
    const x = b.input('x', [B, T, d]);
    const w = b.input('w', [d, V]);
    const idx = b.input('idx', [B, T, 1], 'int64');
    const picked = withEntropy ? b.linearLogSoftmaxGatherEntropy(x, w, idx) : { logprobs: b.linearLogSoftmaxGather(x, w, idx), entropy: null };
    const loss = b.reduceSum(b.mul(picked.logprobs, b.constant(Float32Array.from({ length: B * T }, (_, i) => i - 2.5), [B, T, 1])));
    const [gx, gw] = b.grad(loss, [x, w]);
    b.output('logprobs', picked.logprobs);
    b.output('gx', gx);
    b.output('gw', gw);
    if (picked.entropy) b.output('entropy', picked.entropy);
    const s = await Session.create(b.toOnnx());
    try {
      return await s.run({ x: { data: xs, dims: [B, T, d] }, w: { data: ws, dims: [d, V] }, idx: { data: ids, dims: [B, T, 1] } });
    } finally {
      await s.release();
    }
  }

  it('gives -sum(p log p) per position and leaves log-probs and gradients bit-identical', async () => {
    const plain = await run(false);
    const withH = await run(true);
    for (const k of ['logprobs', 'gx', 'gw']) expect(Array.from(withH[k].data as Float32Array)).toEqual(Array.from(plain[k].data as Float32Array));
    expect(withH.entropy.dims).toEqual([B, T, 1]);
    const H = withH.entropy.data as Float32Array;
    for (let n = 0; n < B * T; n++) {
      const z = Array.from({ length: V }, (_, v) => {
        let s = 0;
        for (let k = 0; k < d; k++) s += xs[n * d + k] * ws[k * V + v];
        return s;
      });
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
      const want = -z.reduce((a, v) => a + Math.exp(v - lse) * (v - lse), 0);
      expect(H[n]).toBeCloseTo(want, 5);
    }
  });
});
