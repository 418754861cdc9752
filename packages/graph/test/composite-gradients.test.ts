import { describe, expect, it } from 'vitest';
import { GraphBuilder, Session } from '../src/index.ts';
import type { Tensor } from '../src/index.ts';
import { gradCheck, randn, rng } from './gradcheck.ts';
import { PARAMS, block } from './transformer-block.ts';

const names = Object.keys(PARAMS);

function paramData(seed: number): Record<string, Float64Array> {
  const r = rng(seed);
  const out: Record<string, Float64Array> = {};
  for (const n of names) {
    const size = PARAMS[n].reduce((a, b) => a * b, 1);
    out[n] = n.startsWith('norm') ? Float64Array.from(randn(r, size, 0.1), (v) => 1 + v) : randn(r, size, 0.4);
  }
  return out;
}

describe('one transformer block', () => {
  it('gradients of every parameter match float64 finite differences', async () => {
    const data = paramData(3);
    // gradCheck multiplies y by a random R and sums; y here is already the scalar loss.
    const res = await gradCheck(
      names.map((n) => ({ name: n, shape: PARAMS[n], data: data[n] })),
      (b, xs) => block(b, Object.fromEntries(names.map((n, i) => [n, xs[i]]))),
      { seed: 5, maxPerTensor: 24 },
    );
    console.log(`transformer block: worst relative error ${res.worst.toExponential(2)} over ${names.length} tensors`);
    expect(res.worst).toBeLessThan(1e-6);
    // Rows of the embedding for unused tokens get exactly zero; used rows do not.
    const ge = res.analytic.embed;
    expect(ge.slice(2 * 8, 3 * 8).every((v) => v === 0)).toBe(true); // token 2 never appears
    expect(ge.slice(4 * 8, 5 * 8).some((v) => v !== 0)).toBe(true); // token 4 appears twice
  });

  it('recompute: identical gradients, forward activations re-emitted in the backward', async () => {
    const data = paramData(4);
    const run = async (recompute: boolean) => {
      const b = new GraphBuilder({ floatType: 'float64' });
      const p: Record<string, Tensor> = {};
      for (const n of names) p[n] = b.input(n, PARAMS[n]);
      const loss = block(b, p);
      const grads = b.grad(loss, names.map((n) => p[n]), { recompute });
      b.output('loss', loss);
      grads.forEach((g, i) => b.output(`g_${names[i]}`, g));
      const bytes = b.toOnnx();
      const s = await Session.create(bytes, { threads: 1 });
      const out = await s.run(Object.fromEntries(names.map((n) => [n, { data: data[n], dims: PARAMS[n] }])));
      await s.release();
      return { out, nodes: b.nodes(), config: bytes.sessionConfig };
    };
    const plain = await run(false);
    const rc = await run(true);
    expect(plain.nodes.filter((n) => n.phase === 'recompute')).toHaveLength(0);
    const recomputed = rc.nodes.filter((n) => n.phase === 'recompute');
    expect(recomputed.length).toBeGreaterThan(10);
    expect(recomputed.some((n) => n.opType === 'MatMul')).toBe(false); // MatMul outputs are the checkpoints
    expect(recomputed.some((n) => n.opType === 'Softmax')).toBe(true);
    expect(rc.config?.['optimization.disable_specified_optimizers']).toContain('CommonSubexpressionElimination');
    // Backward consumers read the recomputed copies, not the forward originals.
    const fwdSoftmax = rc.nodes.find((n) => n.phase === 'forward' && n.opType === 'Softmax')?.outputs[0];
    expect(fwdSoftmax).toBeDefined();
    expect(rc.nodes.some((n) => n.phase === 'backward' && n.inputs.includes(fwdSoftmax as string))).toBe(false);
    for (const k of Object.keys(plain.out)) {
      expect(Array.from(rc.out[k].data as Float64Array), k).toEqual(Array.from(plain.out[k].data as Float64Array));
    }
  });
});
