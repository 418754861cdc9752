/** Shape/layout ops (reshape, transpose, squeeze, expand, concat, slice, cast) and their VJP rules. */
import type { GraphCore, TensorRef } from '../core.ts';
import type { Attr, DType, Tensor } from '../types.ts';
import { isFloat, numel } from '../types.ts';
import { broadcastShapes, normAxes, normAxis, sameShape } from '../shape.ts';
import { reduceTo } from './reduce-to.ts';
import { scatterElementsAdd, zeros } from './gather.ts';
import { matmul } from './matmul.ts';

export function reshape(g: GraphCore, a: Tensor, shape: readonly number[]): TensorRef {
  const t = g.own(a, 'reshape');
  const out = [...shape];
  const infer = out.indexOf(-1);
  if (out.filter((d) => d === -1).length > 1) throw new Error(`reshape '${t.name}': at most one -1 in [${shape}]`);
  if (infer >= 0) {
    const rest = numel(out.filter((d) => d !== -1));
    out[infer] = rest === 0 ? 0 : numel(t.shape) / rest;
  }
  if (out.some((d) => !Number.isInteger(d) || d < 0) || numel(out) !== numel(t.shape)) {
    throw new Error(`reshape '${t.name}': cannot view [${t.shape}] as [${shape}]`);
  }
  if (sameShape(out, t.shape)) return t;
  const attrs: Record<string, Attr> = out.includes(0) ? { allowzero: { i: 1 } } : {};
  return g.emit('Reshape', [t, g.i64(out)], { shape: out, dtype: t.dtype }, attrs, ({ dy, x }) => [reshape(g, dy, x(0).shape)]);
}

export function transpose(g: GraphCore, a: Tensor, perm: readonly number[]): TensorRef {
  const t = g.own(a, 'transpose');
  const p = perm.map((i) => normAxis(i, t.shape.length, 'transpose perm'));
  if (p.length !== t.shape.length || new Set(p).size !== p.length) {
    throw new Error(`transpose '${t.name}': perm [${perm}] is not a permutation of ${t.shape.length} axes`);
  }
  if (p.every((v, i) => v === i)) return t;
  const src = t.producer;
  // Transpose of a transpose: one Transpose of the original (or none). Keeps weight-layout round trips out of graphs.
  if (src && src.opType === 'Transpose' && src.vjp) {
    const inner = src.attrs.perm as { ints: number[] };
    return transpose(g, src.inputs[0] as TensorRef, p.map((i) => inner.ints[i]));
  }
  // A backward weight gradient (Aᵀ·B) wanted in the transposed layout [out,in]: emit Bᵀ·A directly, so no separate
  // Transpose of the result runs (ORT folds the operand transposes into FusedMatMul).
  if (src && src.opType === 'MatMul' && src.phase === 'backward' && t.shape.length === 2 && g.phase === 'backward') {
    const [a, b] = src.inputs as TensorRef[];
    if (a.shape.length === 2 && b.shape.length === 2) return matmul(g, transpose(g, b, [1, 0]), transpose(g, a, [1, 0]));
  }
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => (inv[v] = i));
  return g.emit('Transpose', [t], { shape: p.map((i) => t.shape[i]), dtype: t.dtype }, { perm: { ints: p } }, ({ dy }) => [
    transpose(g, dy, inv),
  ]);
}

/** Swap the last two axes (matmul operands). */
export function transposeLast2(g: GraphCore, a: TensorRef): TensorRef {
  const r = a.shape.length;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return transpose(g, a, perm);
}

export function unsqueeze(g: GraphCore, a: Tensor, axes: readonly number[]): TensorRef {
  const t = g.own(a, 'unsqueeze');
  const rank = t.shape.length + axes.length;
  const ax = normAxes(axes, rank);
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(ax.includes(i) ? 1 : t.shape[k++]);
  return g.emit('Unsqueeze', [t, g.i64(ax)], { shape: out, dtype: t.dtype }, {}, ({ dy, x }) => [reshape(g, dy, x(0).shape)]);
}

export function squeeze(g: GraphCore, a: Tensor, axes: readonly number[]): TensorRef {
  const t = g.own(a, 'squeeze');
  const ax = normAxes(axes, t.shape.length);
  for (const i of ax) if (t.shape[i] !== 1) throw new Error(`squeeze '${t.name}': axis ${i} has size ${t.shape[i]}, not 1`);
  const out = t.shape.filter((_, i) => !ax.includes(i));
  return g.emit('Squeeze', [t, g.i64(ax)], { shape: out, dtype: t.dtype }, {}, ({ dy, x }) => [reshape(g, dy, x(0).shape)]);
}

export function expand(g: GraphCore, a: Tensor, shape: readonly number[]): TensorRef {
  const t = g.own(a, 'expand');
  const out = broadcastShapes(t.shape, shape);
  if (sameShape(out, t.shape)) return t;
  return g.emit('Expand', [t, g.i64([...shape])], { shape: out, dtype: t.dtype }, {}, ({ dy, x }) => [reduceTo(g, dy, x(0).shape)]);
}

export function concat(g: GraphCore, xs: readonly Tensor[], axis: number): TensorRef {
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  const ts = xs.map((x) => g.own(x, 'concat'));
  const rank = ts[0].shape.length;
  const ax = normAxis(axis, rank, 'concat axis');
  for (const t of ts) {
    if (t.dtype !== ts[0].dtype || t.shape.length !== rank || t.shape.some((d, i) => i !== ax && d !== ts[0].shape[i])) {
      throw new Error(`concat: '${t.name}' [${t.shape}] ${t.dtype} does not match '${ts[0].name}' [${ts[0].shape}] ${ts[0].dtype} off axis ${ax}`);
    }
  }
  if (ts.length === 1) return ts[0];
  const out = [...ts[0].shape];
  out[ax] = ts.reduce((s, t) => s + t.shape[ax], 0);
  return g.emit('Concat', ts, { shape: out, dtype: ts[0].dtype }, { axis: { i: ax } }, ({ dy, need }) => {
    let off = 0;
    return ts.map((t, i) => {
      const s = off;
      off += t.shape[ax];
      return need[i] ? slice(g, dy, [s], [s + t.shape[ax]], [ax]) : null;
    });
  });
}

interface SliceDim {
  axis: number;
  start: number;
  step: number;
  count: number;
}

/** ONNX Slice clamping rules, resolved statically. */
function resolveSlice(shape: readonly number[], starts: readonly number[], ends: readonly number[], axes: readonly number[], steps: readonly number[]): SliceDim[] {
  return axes.map((a, k) => {
    const d = shape[a];
    const step = steps[k];
    if (!Number.isInteger(step) || step === 0) throw new Error(`slice: step ${step} on axis ${a} must be a non-zero integer`);
    let s = starts[k] < 0 ? starts[k] + d : starts[k];
    let e = ends[k] < 0 ? ends[k] + d : ends[k];
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      s = Math.min(Math.max(s, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    const count = Math.max(0, Math.ceil((e - s) / step));
    return { axis: a, start: s, step, count };
  });
}

export function slice(
  g: GraphCore,
  a: Tensor,
  starts: readonly number[],
  ends: readonly number[],
  axes?: readonly number[],
  steps?: readonly number[],
): TensorRef {
  const t = g.own(a, 'slice');
  const rank = t.shape.length;
  const ax = (axes ?? starts.map((_, i) => i)).map((x) => normAxis(x, rank, 'slice axis'));
  const st = steps ?? ax.map(() => 1);
  if (starts.length !== ax.length || ends.length !== ax.length || st.length !== ax.length) {
    throw new Error(`slice '${t.name}': starts/ends/axes/steps lengths differ`);
  }
  const dims = resolveSlice(t.shape, starts, ends, ax, st);
  const out = [...t.shape];
  for (const d of dims) out[d.axis] = d.count;
  if (sameShape(out, t.shape) && dims.every((d) => d.step === 1)) return t;
  // Ends re-expressed from the resolved count. A negative step that runs through index 0
  // would give end -1, which ONNX reads as "last element", so use a far-negative sentinel.
  const endsR = dims.map((d) => {
    const e = d.start + d.step * d.count;
    return d.step < 0 && e < 0 ? -(2 ** 53) : e;
  });
  const inputs = [t, g.i64(dims.map((d) => d.start)), g.i64(endsR), g.i64(ax), g.i64(st)];
  return g.emit('Slice', inputs, { shape: out, dtype: t.dtype }, {}, ({ dy, x }) => [sliceGrad(g, dy, x(0).shape, dims)]);
}

function sliceGrad(g: GraphCore, dy: TensorRef, shape: readonly number[], dims: SliceDim[]): TensorRef {
  if (dims.every((d) => d.step === 1 || d.step === -1)) {
    // Unit steps: the gradient is dy (reversed back on reversed axes) zero-padded to the input extent.
    const rev = dims.filter((d) => d.step === -1);
    const back = rev.length === 0 ? dy : slice(g, dy, rev.map((d) => d.count - 1), rev.map(() => -(2 ** 53)), rev.map((d) => d.axis), rev.map(() => -1));
    const pads = new Array<number>(2 * shape.length).fill(0);
    for (const d of dims) {
      const lo = d.step === 1 ? d.start : d.start - d.count + 1;
      pads[d.axis] = lo;
      pads[shape.length + d.axis] = shape[d.axis] - lo - d.count;
    }
    if (pads.every((v) => v === 0)) return back;
    return g.emit('Pad', [back, g.i64(pads)], { shape, dtype: dy.dtype }, { mode: { s: 'constant' } });
  }
  // Strided/reversed: scatter dy into a flat zero buffer at statically computed positions.
  const strides = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= shape[i];
  }
  const byAxis = new Map(dims.map((d) => [d.axis, d]));
  const idx = new Array<number>(numel(dy.shape));
  const pos = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < idx.length; flat++) {
    let off = 0;
    for (let i = 0; i < shape.length; i++) {
      const d = byAxis.get(i);
      off += (d ? d.start + d.step * pos[i] : pos[i]) * strides[i];
    }
    idx[flat] = off;
    for (let i = shape.length - 1; i >= 0; i--) {
      if (++pos[i] < dy.shape[i]) break;
      pos[i] = 0;
    }
  }
  const flatDy = reshape(g, dy, [idx.length]);
  const flatIdx = g.literal(idx, [idx.length], 'int64');
  const full = scatterElementsAdd(g, zeros(g, [numel(shape)], dy.dtype), flatIdx, flatDy, 0);
  return reshape(g, full, shape);
}

export function cast(g: GraphCore, a: Tensor, dtype: DType): TensorRef {
  const t = g.own(a, 'cast');
  if (t.dtype === dtype) return t;
  const to = { float32: 1, int64: 7, bool: 9, float64: 11 }[dtype];
  return g.emit('Cast', [t], { shape: t.shape, dtype }, { to: { i: to } }, ({ dy, x }) => [
    isFloat(x(0).dtype) ? cast(g, dy, x(0).dtype) : null,
  ]);
}
