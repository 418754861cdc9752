/** Reduce a broadcast gradient back to an operand's shape (numpy broadcasting in reverse). */
import type { GraphCore, TensorRef } from '../core.ts';
import { sameShape } from '../shape.ts';

export function reduceTo(g: GraphCore, dy: TensorRef, shape: readonly number[]): TensorRef {
  if (sameShape(dy.shape, shape)) return dy;
  const lead = dy.shape.length - shape.length;
  if (lead < 0) throw new Error(`internal: gradient of shape [${dy.shape}] cannot reduce to [${shape}]`);
  const axes: number[] = [];
  for (let i = 0; i < dy.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && dy.shape[i] !== 1)) axes.push(i);
  }
  let r = dy;
  if (axes.length > 0) {
    const kept = dy.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    // One ReduceSum (keepdims) over every broadcast axis, then one Reshape to drop the leading ones.
    r = g.emit('ReduceSum', [dy, g.i64(axes)], { shape: kept, dtype: dy.dtype }, { keepdims: { i: 1 } });
  }
  if (!sameShape(r.shape, shape)) {
    r = g.emit('Reshape', [r, g.i64([...shape])], { shape, dtype: r.dtype });
  }
  return r;
}
