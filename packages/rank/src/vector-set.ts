import type { Table } from 'apache-arrow';
import { CONTRACT_KEY, DenseVectors, SparseVectors, vectorColumn } from '@ragrpo/contracts';

/** Dense rows in one flat buffer: row i is flat[i*dim .. (i+1)*dim). */
export interface DenseVectorSet {
  kind: 'dense';
  ids: string[];
  dim: number;
  flat: Float32Array;
}

/** Sparse rows as parallel index/value lists (BM25: term ids and weights). */
export interface SparseVectorSet {
  kind: 'sparse';
  ids: string[];
  indices: ArrayLike<number>[];
  values: ArrayLike<number>[];
}

export type VectorSet = DenseVectorSet | SparseVectorSet;

export function denseVectorSet(ids: string[], rows: ArrayLike<number>[]): DenseVectorSet {
  const dim = rows[0]?.length ?? 0;
  const flat = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => {
    if (r.length !== dim) throw new Error(`vector '${ids[i]}' has ${r.length} values, expected ${dim} like the first one`);
    flat.set(r, i * dim);
  });
  return { kind: 'dense', ids, dim, flat };
}

export function sparseVectorSet(ids: string[], rows: { indices: ArrayLike<number>; values: ArrayLike<number> }[]): SparseVectorSet {
  rows.forEach((r, i) => {
    if (r.indices.length !== r.values.length) {
      throw new Error(`sparse vector '${ids[i]}' has ${r.indices.length} indices but ${r.values.length} values`);
    }
  });
  return { kind: 'sparse', ids, indices: rows.map((r) => r.indices), values: rows.map((r) => r.values) };
}

/**
 * The rows of a DenseVectors or SparseVectors table whose ids are asked for, in the order asked.
 * Only those rows are copied out, so a large chunk table costs one id scan, not a full conversion.
 */
export function selectVectors(table: Table, ids: readonly string[], where: string): VectorSet {
  const idCol = table.getChild('id');
  if (!idCol) throw new Error(`${where}: no 'id' column; expected a dense_vectors or sparse_vectors table`);
  const rowOf = new Map<string, number>();
  for (let i = 0; i < table.numRows; i++) rowOf.set(idCol.get(i) as string, i);
  const rows = ids.map((id) => {
    const r = rowOf.get(id);
    if (r === undefined) throw new Error(`${where}: no vector for id '${id}'. Re-run embed so it covers every chunk and POV (nx runs it as a dependency).`);
    return r;
  });
  const contract = table.schema.metadata.get(CONTRACT_KEY);
  if (contract === DenseVectors.name) {
    const { flat, dim } = vectorColumn(table, 'vector');
    const out = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => out.set(flat.subarray(r * dim, (r + 1) * dim), i * dim));
    return { kind: 'dense', ids: [...ids], dim, flat: out };
  }
  if (contract === SparseVectors.name) {
    const ic = table.getChild('indices');
    const vc = table.getChild('values');
    if (!ic || !vc) throw new Error(`${where}: sparse_vectors table without 'indices'/'values' columns; re-run embed`);
    const list = (v: unknown): ArrayLike<number> => (v && typeof v === 'object' && 'toArray' in v ? (v as { toArray(): ArrayLike<number> }).toArray() : []);
    return sparseVectorSet([...ids], rows.map((r) => ({ indices: list(ic.get(r)), values: list(vc.get(r)) })));
  }
  throw new Error(`${where}: holds a '${contract ?? 'unlabelled'}' table, expected dense_vectors or sparse_vectors`);
}

/** Every row of a vectors table, in table order. */
export function allVectors(table: Table, where: string): VectorSet {
  const idCol = table.getChild('id');
  if (!idCol) throw new Error(`${where}: no 'id' column; expected a dense_vectors or sparse_vectors table`);
  const ids: string[] = [];
  for (let i = 0; i < table.numRows; i++) ids.push(idCol.get(i) as string);
  return selectVectors(table, ids, where);
}
