/** Reductions, softmax/logSoftmax, argMax. */
import type { GraphCore, TensorRef } from '../core.ts';
import type { Attr, Tensor } from '../types.ts';
import { isFloat, numel } from '../types.ts';
import { normAxes, normAxis, reducedShape } from '../shape.ts';
import { compare, div, exp, mul, neg, sub } from './elementwise.ts';
import { cast, expand, reshape } from './shape-ops.ts';
import { scatterElementsAdd } from './gather.ts';

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

/**
 * GatherElements(LogSoftmax(x, axis), idx, axis): log-probabilities at given indices (e.g. target tokens) with a
 * fused gradient rule sent straight to x: dx = scatter_add(idx, dz) - softmax(x) * sum(dz, axis). Chaining the two
 * ops' own rules would scatter dz into a dense zero tensor, reduce it, and combine it with softmax in a full-size
 * Sub; here softmax = exp(logSoftmax) reuses the forward result and the scatter adds into the softmax term.
 * The LogSoftmax keeps its own rule, so other consumers of it (none in the usual use) still differentiate.
 */
export function logSoftmaxGather(g: GraphCore, a: Tensor, indices: Tensor, axis = -1): TensorRef {
  const t = g.own(a, 'logSoftmaxGather');
  const idx = g.own(indices, 'logSoftmaxGather indices');
  const ax = normAxis(axis, t.shape.length, 'logSoftmaxGather axis');
  if (idx.dtype !== 'int64') throw new Error(`logSoftmaxGather: indices '${idx.name}' must be int64, got ${idx.dtype}`);
  if (idx.shape.length !== t.shape.length || idx.shape.some((d, i) => i !== ax && d !== t.shape[i])) {
    throw new Error(`logSoftmaxGather: indices '${idx.name}' [${idx.shape}] must match data [${t.shape}] on every axis but ${ax}`);
  }
  const lsm = logSoftmax(g, t, ax);
  const picked = g.emit('GatherElements', [lsm, idx], { shape: idx.shape, dtype: t.dtype }, { axis: { i: ax } }, ({ dy, need, x, value }) => {
    if (!need[0]) return [null, null];
    // sum over the gathered axis; with one index per row (the usual case) it is dy itself.
    const s = idx.shape[ax] === 1 ? dy : reduceSum(g, dy, [ax], true);
    const softTerm = mul(g, exp(g, value(lsm)), neg(g, s)); // -softmax(x) * sum(dz): Neg on the small tensor
    return [scatterElementsAdd(g, softTerm, x(1), dy, ax), null];
  }, [t, idx]);
  return picked;
}

export function argMax(g: GraphCore, a: Tensor, axis: number, keepdims = false): TensorRef {
  const t = g.own(a, 'argMax');
  const ax = normAxis(axis, t.shape.length, 'argMax axis');
  return g.emit('ArgMax', [t], { shape: reducedShape(t.shape, [ax], keepdims), dtype: 'int64' }, { axis: { i: ax }, keepdims: { i: keepdims ? 1 : 0 } });
}

/**
 * RMSNorm over the last axis: x * 1/sqrt(mean(x², -1) + eps) * weight (Llama/T5 style), recorded as the plain ops
 * Mul, ReduceMean, Add, Sqrt, Reciprocal, Mul, Mul, with one fused rule for both x and weight. With n = x*r the
 * normalised input and u = dy*weight: dx = r * (u - n * mean(u*n)), dweight = sum over leading axes of dy*n.
 * Chaining the ops' own rules costs about twice the full-size elementwise passes (two x*x branches, an Expand of
 * the mean's gradient, a Sum of the branches).
 */
export function rmsNorm(g: GraphCore, a: Tensor, weight: Tensor, eps: number): TensorRef {
  const x = g.own(a, 'rmsNorm');
  const w = g.own(weight, 'rmsNorm weight');
  const D = x.shape[x.shape.length - 1];
  if (!isFloat(x.dtype) || w.dtype !== x.dtype) throw new Error(`rmsNorm: '${x.name}' ${x.dtype} and weight '${w.name}' ${w.dtype} must share a float dtype`);
  if (w.shape.length !== 1 || w.shape[0] !== D) throw new Error(`rmsNorm: weight '${w.name}' [${w.shape}] must be [${D}] (the last axis of [${x.shape}])`);
  const last = x.shape.length - 1;
  const plain = (op: string, inputs: TensorRef[], shape: readonly number[], attrs: Record<string, Attr> = {}) =>
    g.emit(op, inputs, { shape, dtype: x.dtype }, attrs);
  const keep = reducedShape(x.shape, [last], true);
  const sq = plain('Mul', [x, x], x.shape);
  const ms = g.opset < 18
    ? plain('ReduceMean', [sq], keep, { keepdims: { i: 1 }, axes: { ints: [last] } })
    : plain('ReduceMean', [sq, g.i64([last])], keep, { keepdims: { i: 1 } });
  const r = plain('Reciprocal', [plain('Sqrt', [plain('Add', [ms, g.scalar(eps, x.dtype)], keep)], keep)], keep);
  const n = plain('Mul', [x, r], x.shape);
  const y = g.emit('Mul', [n, w], { shape: x.shape, dtype: x.dtype }, {}, ({ dy, need, value }) => {
    const nv = value(n);
    let dx: TensorRef | null = null;
    if (need[0]) {
      const u = mul(g, dy, value(w));
      const m = reduceMean(g, mul(g, u, nv), [last], true);
      dx = mul(g, sub(g, u, mul(g, nv, m)), value(r));
    }
    const dw = need[1] ? reduceSum(g, mul(g, dy, nv), [...Array(last).keys()], false) : null;
    return [dx, dw];
  }, [x, w]);
  return y;
}
