import { describe, expect, it } from 'vitest';
import { GraphBuilder, Session } from '../src/index.ts';

function twoBranches() {
  const b = new GraphBuilder();
  const x = b.input('x', [4, 3]);
  const wa = b.input('wa', [3, 5]);
  const wb = b.input('wb', [3, 5]);
  const ya = b.matmul(x, wa);
  const yb = b.matmul(x, wb);
  const loss = b.add(b.reduceSum(b.tanh(ya)), b.reduceSum(b.sigmoid(yb)));
  return { b, x, wa, wb, ya, yb, loss };
}

const backward = (b: GraphBuilder) => b.nodes().filter((n) => n.phase === 'backward');

describe('grad emits backward ops only along paths to the requested tensors', () => {
  it('a frozen branch and the (unrequested) input get no backward ops', () => {
    const { b, wa, wb, yb, loss } = twoBranches();
    b.grad(loss, [wa]);
    const ops = backward(b).map((n) => n.opType);
    // ReduceSum VJP (Reshape+Expand), Tanh VJP (Mul, Sub, Mul), dWa = xᵀ·dy (Transpose, MatMul).
    expect(ops.sort()).toEqual(['Expand', 'MatMul', 'Mul', 'Mul', 'Reshape', 'Sub', 'Transpose']);
    const touched = new Set(backward(b).flatMap((n) => n.inputs));
    expect(touched.has(wb.name)).toBe(false);
    expect(touched.has(yb.name)).toBe(false);
    // No dX: nothing multiplies by waᵀ.
    expect(touched.has(wa.name)).toBe(false);
  });

  it('requesting both weights doubles the work; requesting x adds the dX matmuls', () => {
    const one = twoBranches();
    one.b.grad(one.loss, [one.wa]);
    const two = twoBranches();
    two.b.grad(two.loss, [two.wa, two.wb]);
    expect(backward(two.b).length).toBe(2 * backward(one.b).length);
    const withX = twoBranches();
    withX.b.grad(withX.loss, [withX.wa, withX.wb, withX.x]);
    const extra = backward(withX.b).length - backward(two.b).length;
    // dX = dYa·waᵀ + dYb·wbᵀ: two (Transpose, MatMul) pairs and one Add for the fan-in.
    expect(extra).toBe(5);
    expect(backward(withX.b).filter((n) => n.opType === 'Add')).toHaveLength(1);
  });

  it('fan-out gradients are accumulated and a tensor the loss ignores gets zeros', async () => {
    const b = new GraphBuilder({ floatType: 'float64' });
    const x = b.input('x', [3]);
    const unused = b.input('unused', [2]);
    // loss = sum(x*x) + sum(3x) -> d/dx = 2x + 3 ; x used three times.
    const loss = b.add(b.reduceSum(b.mul(x, x)), b.reduceSum(b.mul(x, 3)));
    const [gx, gu] = b.grad(loss, [x, unused]);
    b.output('gx', gx);
    b.output('gu', gu);
    const s = await Session.create(b.toOnnx());
    const out = await s.run({ x: { data: Float64Array.from([1, -2, 0.5]), dims: [3] }, unused: { data: new Float64Array(2), dims: [2] } });
    expect(Array.from(out.gx.data as Float64Array)).toEqual([5, -1, 4]);
    expect(Array.from(out.gu.data as Float64Array)).toEqual([0, 0]);
    await s.release();
  });

  it('toOnnx drops forward nodes that reach no output', () => {
    const { b, wa, loss, yb } = twoBranches();
    const [g] = b.grad(loss, [wa]);
    b.output('g', g);
    const def = b.toGraphDef();
    // The wb branch (MatMul, Sigmoid, ReduceSum) and the final Add feed nothing needed by dWa.
    expect(def.nodes.some((n) => n.outputs.includes(yb.name))).toBe(false);
    expect(def.nodes.map((n) => n.opType).filter((o) => o === 'Sigmoid')).toHaveLength(0);
    expect(def.inputs.map((i) => i.name)).toEqual(['x', 'wa', 'wb']); // declared inputs are kept
  });
});
