import { DenseVectors, SparseVectors, float32VectorColumn, tableFromColumns } from '@ragrpo/contracts';
import { Field, Float32, type Data, Int32, List, Utf8, makeData, makeVector, vectorFromArray, type Table, type Vector } from 'apache-arrow';
import type { SparseVector } from './sparse/bm25.ts';

export type VectorRole = 'query' | 'document';

// List<item> column from per-row typed arrays: one flat child buffer plus offsets, no per-value boxing.
function listColumn<T extends Int32 | Float32>(type: T, rows: readonly (Int32Array | Float32Array)[]): Vector {
  const offsets = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => { offsets[i + 1] = offsets[i] + r.length; });
  const flat = type instanceof Int32 ? new Int32Array(offsets[rows.length]) : new Float32Array(offsets[rows.length]);
  rows.forEach((r, i) => flat.set(r, offsets[i]));
  // makeData's overloads are per concrete type; the generic T needs the loose call.
  const child = makeData({ type: type as never, length: flat.length, data: flat as never }) as Data;
  const list = new List(new Field('item', type, true));
  return makeVector(makeData({ type: list as List, length: rows.length, nullCount: 0, valueOffsets: offsets, child: child as Data }));
}

/** Sparse vectors as a SparseVectors table; metadata says how they were made and the index width. */
export function sparseVectorTable(
  ids: readonly string[], vectors: readonly SparseVector[], role: VectorRole, vocabSize: number,
): Table {
  if (ids.length !== vectors.length) throw new Error(`sparse vectors: ${ids.length} ids for ${vectors.length} vectors`);
  return tableFromColumns(SparseVectors, {
    id: vectorFromArray([...ids], new Utf8()),
    indices: listColumn(new Int32(), vectors.map((v) => v.indices)),
    values: listColumn(new Float32(), vectors.map((v) => v.values)),
  }, {
    'ragrpo.kind': 'bm25',
    'ragrpo.role': role,
    'ragrpo.vocab_size': String(vocabSize),
  });
}

export interface DenseTableInfo {
  model: string;
  role: VectorRole;
  normalized: boolean;
  pooling: string;
  prefix: string;
}

/** Dense vectors (one flat row-major buffer) as a DenseVectors table with FixedSizeList<float32>[dim]. */
export function denseVectorTable(ids: readonly string[], flat: Float32Array, dim: number, info: DenseTableInfo): Table {
  if (flat.length !== ids.length * dim) {
    throw new Error(`dense vectors: ${flat.length} values for ${ids.length} ids of dimension ${dim}`);
  }
  return tableFromColumns(DenseVectors, {
    id: vectorFromArray([...ids], new Utf8()),
    vector: float32VectorColumn(flat, dim),
  }, {
    'ragrpo.model': info.model,
    'ragrpo.role': info.role,
    'ragrpo.dim': String(dim),
    'ragrpo.normalized': String(info.normalized),
    'ragrpo.pooling': info.pooling,
    'ragrpo.prefix': info.prefix,
  });
}
