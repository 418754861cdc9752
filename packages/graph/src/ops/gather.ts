/** Indexing ops (Gather, GatherElements) whose gradients are scatter-adds into zeros. */
import type { GraphCore, TensorRef } from '../core.ts';
import type { DType, Tensor } from '../types.ts';
import { normAxis } from '../shape.ts';
import { toTyped } from '../core.ts';

/** Zeros via ConstantOfShape: no initializer of the full size is ever stored. */
export function zeros(g: GraphCore, shape: readonly number[], dtype: DType): TensorRef {
  return full(g, shape, 0, dtype);
}

/** A tensor of one repeated value, made at run time (ConstantOfShape: nothing stored in the model). */
export function full(g: GraphCore, shape: readonly number[], v: number, dtype: DType): TensorRef {
  const value = { t: { name: '', dtype, dims: [1], data: toTyped([v], dtype) } };
  return g.emit('ConstantOfShape', [g.i64([...shape])], { shape, dtype }, { value });
}

export function scatterElementsAdd(g: GraphCore, base: TensorRef, idx: TensorRef, upd: TensorRef, axis: number): TensorRef {
  return g.emit('ScatterElements', [base, idx, upd], { shape: base.shape, dtype: base.dtype }, { axis: { i: axis }, reduction: { s: 'add' } });
}

function indexTensor(g: GraphCore, indices: Tensor | readonly number[], what: string): TensorRef {
  if (Array.isArray(indices)) return g.literal(indices as number[], [indices.length], 'int64');
  const t = g.own(indices as Tensor, what);
  if (t.dtype !== 'int64') throw new Error(`${what}: indices '${t.name}' must be int64, got ${t.dtype}`);
  return t;
}

export function gather(g: GraphCore, table: Tensor, indices: Tensor | readonly number[], axis = 0): TensorRef {
  const t = g.own(table, 'gather');
  const idx = indexTensor(g, indices, 'gather');
  const ax = normAxis(axis, t.shape.length, 'gather axis');
  const out = [...t.shape.slice(0, ax), ...idx.shape, ...t.shape.slice(ax + 1)];
  return g.emit('Gather', [t, idx], { shape: out, dtype: t.dtype }, { axis: { i: ax } }, ({ dy, need, x }) => {
    if (!need[0]) return [null, null];
    const shape = x(0).shape;
    const ix = x(1);
    const nIdx = ix.shape.reduce((a, b) => a * b, 1);
    if (ax === 0) {
      // Embedding-style: ScatterND adds whole rows; repeated ids accumulate.
      const rows = g.emit('Reshape', [ix, g.i64([nIdx, 1])], { shape: [nIdx, 1], dtype: 'int64' });
      const upd = g.emit('Reshape', [dy, g.i64([nIdx, ...shape.slice(1)])], { shape: [nIdx, ...shape.slice(1)], dtype: dy.dtype });
      const out = g.emit('ScatterND', [zeros(g, shape, dy.dtype), rows, upd], { shape, dtype: dy.dtype }, { reduction: { s: 'add' } });
      return [out, null];
    }
    // Other axes: view as [pre, V, post] and scatter-add along axis 1.
    const pre = shape.slice(0, ax).reduce((a, b) => a * b, 1);
    const post = shape.slice(ax + 1).reduce((a, b) => a * b, 1);
    const upd = g.emit('Reshape', [dy, g.i64([pre, nIdx, post])], { shape: [pre, nIdx, post], dtype: dy.dtype });
    const ix3 = g.emit('Reshape', [ix, g.i64([1, nIdx, 1])], { shape: [1, nIdx, 1], dtype: 'int64' });
    const ixE = g.emit('Expand', [ix3, g.i64([pre, nIdx, post])], { shape: [pre, nIdx, post], dtype: 'int64' });
    const acc = scatterElementsAdd(g, zeros(g, [pre, shape[ax], post], dy.dtype), ixE, upd, 1);
    return [g.emit('Reshape', [acc, g.i64([...shape])], { shape, dtype: dy.dtype }), null];
  });
}

export function gatherElements(g: GraphCore, a: Tensor, indices: Tensor, axis: number): TensorRef {
  const t = g.own(a, 'gatherElements');
  const idx = indexTensor(g, indices, 'gatherElements');
  const ax = normAxis(axis, t.shape.length, 'gatherElements axis');
  if (idx.shape.length !== t.shape.length) {
    throw new Error(`gatherElements: indices '${idx.name}' rank ${idx.shape.length} must equal data rank ${t.shape.length}`);
  }
  return g.emit('GatherElements', [t, idx], { shape: idx.shape, dtype: t.dtype }, { axis: { i: ax } }, ({ dy, need, x }) =>
    need[0] ? [scatterElementsAdd(g, zeros(g, x(0).shape, dy.dtype), x(1), dy, ax), null] : [null, null],
  );
}
