import { Field, Float32, Int32, List, Utf8, makeData, makeVector, vectorFromArray, type Table, type Vector } from 'apache-arrow';
import { DenseVectors, SparseVectors, float32VectorColumn, tableFromColumns, vectorColumn } from '@ragrpo/contracts';
import type { SparseVector } from './sparse-index.ts';

/** The id column of a vectors table as strings. */
export function readIds(table: Table, column = 'id'): string[] {
  const col = table.getChild(column);
  if (!col) throw new Error(`table has no column '${column}'`);
  return col.toArray() as string[];
}

/** A DenseVectors table as ids + one flat row-major buffer (zero-copy for a single-batch table). */
export function readDenseVectors(table: Table): { ids: string[]; flat: Float32Array; dim: number } {
  const { flat, dim } = vectorColumn(table, 'vector');
  return { ids: readIds(table), flat, dim };
}

/**
 * A SparseVectors table as ids + vectors. The vectors are views into the Arrow buffers (one list
 * offset lookup per row), which matters for 100k chunks where per-row `get()` would box every list.
 */
export function readSparseVectors(table: Table): { ids: string[]; vectors: SparseVector[] } {
  const ids = readIds(table);
  const idx = table.getChild('indices');
  const val = table.getChild('values');
  if (!idx || !val) throw new Error('sparse vectors table needs indices and values columns');
  const vectors: SparseVector[] = [];
  for (let b = 0; b < idx.data.length; b++) {
    const di = idx.data[b], dv = val.data[b];
    const ci = di.children[0], cv = dv.children[0];
    const iv = ci.values as Int32Array, vv = cv.values as Float32Array;
    for (let r = 0; r < di.length; r++) {
      const i0 = di.valueOffsets[di.offset + r], i1 = di.valueOffsets[di.offset + r + 1];
      const v0 = dv.valueOffsets[dv.offset + r], v1 = dv.valueOffsets[dv.offset + r + 1];
      if (i1 - i0 !== v1 - v0) {
        throw new Error(`sparse vector ${ids[vectors.length]}: ${i1 - i0} indices but ${v1 - v0} values. Re-run the embed stage.`);
      }
      vectors.push({ indices: iv.subarray(ci.offset + i0, ci.offset + i1), values: vv.subarray(cv.offset + v0, cv.offset + v1) });
    }
  }
  return { ids, vectors };
}

function listColumn(parts: ArrayLike<number>[], kind: 'int32' | 'float32'): Vector {
  const offsets = new Int32Array(parts.length + 1);
  parts.forEach((p, i) => { offsets[i + 1] = offsets[i] + p.length; });
  const flat = kind === 'int32' ? new Int32Array(offsets[parts.length]) : new Float32Array(offsets[parts.length]);
  parts.forEach((p, i) => flat.set(p, offsets[i]));
  const childType = kind === 'int32' ? new Int32() : new Float32();
  const child = makeData({ type: childType, length: flat.length, data: flat } as never);
  const data = makeData({ type: new List(new Field('item', childType, true)), length: parts.length, nullCount: 0, valueOffsets: offsets, child } as never);
  return makeVector(data);
}

export function sparseVectorsTable(ids: readonly string[], vectors: readonly SparseVector[], metadata: Record<string, string> = {}): Table {
  return tableFromColumns(SparseVectors, {
    id: vectorFromArray([...ids], new Utf8()),
    indices: listColumn(vectors.map((v) => v.indices), 'int32'),
    values: listColumn(vectors.map((v) => v.values), 'float32'),
  }, metadata);
}

export function denseVectorsTable(ids: readonly string[], flat: Float32Array, dim: number, metadata: Record<string, string> = {}): Table {
  return tableFromColumns(DenseVectors, {
    id: vectorFromArray([...ids], new Utf8()),
    vector: float32VectorColumn(flat, dim),
  }, { 'ragrpo.dim': String(dim), ...metadata });
}
