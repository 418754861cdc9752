/** Reductions, softmax/logSoftmax, argMax. */
import type { GraphCore, TensorRef } from '../core.ts';
import type { Attr, Tensor } from '../types.ts';
import { isFloat, numel } from '../types.ts';
import { normAxes, normAxis, reducedShape } from '../shape.ts';
import { compare, div, exp, mul, sub } from './elementwise.ts';
import { cast, expand, reshape } from './shape-ops.ts';

type ReduceOp = 'ReduceSum' | 'ReduceMean' | 'ReduceMax';

/** axes undefined or [] reduce every axis (keepdims defaults to false, numpy/torch style). */
function reduce(g: GraphCore, op: ReduceOp, a: Tensor, axes: readonly number[] | undefined, keepdims: boolean, vjp: Parameters<GraphCore['emit']>[4]): TensorRef {
  const t = g.own(a, op);
  if (!isFloat(t.dtype)) throw new Error(`${op}: needs a float tensor, got ${t.dtype} '${t.name}'`);
  const ax = axes && axes.length > 0 ? normAxes(axes, t.shape.length) : [...t.shape.keys()];
  const out = reducedShape(t.shape, ax, keepdims);
  const attrs: Record<string, Attr> = { keepdims: { i: keepdims ? 1 : 0 } };
  // ReduceSum takes axes as an input since opset 13, ReduceMean/Max only since 18.
  if (op !== 'ReduceSum' && g.opset < 18) {
    attrs.axes = { ints: ax };
    return g.emit(op, [t], { shape: out, dtype: t.dtype }, attrs, vjp);
  }
  return g.emit(op, [t, g.i64(ax)], { shape: out, dtype: t.dtype }, attrs, vjp);
}

function axesOf(t: TensorRef, axes: readonly number[] | undefined): number[] {
  return axes && axes.length > 0 ? normAxes(axes, t.shape.length) : [...t.shape.keys()];
}

/** Broadcast a reduced gradient back over the reduced axes. */
function unreduce(g: GraphCore, dy: TensorRef, shape: readonly number[], ax: number[]): TensorRef {
  return expand(g, reshape(g, dy, reducedShape(shape, ax, true)), shape);
}

export function reduceSum(g: GraphCore, a: Tensor, axes?: readonly number[], keepdims = false): TensorRef {
  return reduce(g, 'ReduceSum', a, axes, keepdims, ({ dy, x }) => [unreduce(g, dy, x(0).shape, axesOf(x(0), axes))]);
}

export function reduceMean(g: GraphCore, a: Tensor, axes?: readonly number[], keepdims = false): TensorRef {
  return reduce(g, 'ReduceMean', a, axes, keepdims, ({ dy, x }) => {
    const ax = axesOf(x(0), axes);
    const count = numel(ax.map((i) => x(0).shape[i]));
    // Scale before broadcasting: the multiply runs on the small reduced tensor.
    return [unreduce(g, mul(g, dy, 1 / count), x(0).shape, ax)];
  });
}

/** Gradient splits evenly among tied maxima (PyTorch amax convention). */
export function reduceMax(g: GraphCore, a: Tensor, axes?: readonly number[], keepdims = false): TensorRef {
  return reduce(g, 'ReduceMax', a, axes, keepdims, ({ dy, x, y }) => {
    const xa = x(0);
    const ax = axesOf(xa, axes);
    const keep = reducedShape(xa.shape, ax, true);
    const mask = cast(g, compare(g, 'Equal', xa, reshape(g, y(), keep)), xa.dtype);
    const count = reduceSum(g, mask, ax, true);
    return [mul(g, mask, div(g, reshape(g, dy, keep), count))];
  });
}

export function softmax(g: GraphCore, a: Tensor, axis = -1): TensorRef {
  const t = g.own(a, 'softmax');
  const ax = normAxis(axis, t.shape.length, 'softmax axis');
  return g.emit('Softmax', [t], { shape: t.shape, dtype: t.dtype }, { axis: { i: ax } }, ({ dy, y }) => {
    // dx = y * (dy - sum(dy*y))
    const s = reduceSum(g, mul(g, dy, y()), [ax], true);
    return [mul(g, y(), sub(g, dy, s))];
  });
}

export function logSoftmax(g: GraphCore, a: Tensor, axis = -1): TensorRef {
  const t = g.own(a, 'logSoftmax');
  const ax = normAxis(axis, t.shape.length, 'logSoftmax axis');
  return g.emit('LogSoftmax', [t], { shape: t.shape, dtype: t.dtype }, { axis: { i: ax } }, ({ dy, y }) => {
    // dx = dy - softmax * sum(dy); softmax = exp(y) avoids keeping a second [.., vocab] tensor.
    const s = reduceSum(g, dy, [ax], true);
    return [sub(g, dy, mul(g, exp(g, y()), s))];
  });
}

export function argMax(g: GraphCore, a: Tensor, axis: number, keepdims = false): TensorRef {
  const t = g.own(a, 'argMax');
  const ax = normAxis(axis, t.shape.length, 'argMax axis');
  return g.emit('ArgMax', [t], { shape: reducedShape(t.shape, [ax], keepdims), dtype: 'int64' }, { axis: { i: ax }, keepdims: { i: keepdims ? 1 : 0 } });
}
