import {
  Bool, Field, FixedSizeList, Float32, Int32, List, Utf8, makeData, makeVector, vectorFromArray,
  type DataType, type Vector,
} from 'apache-arrow';

/**
 * The column kinds a contract may declare. Kept to a handful so every stage builds
 * and reads columns the same way instead of hand-assembling Arrow data.
 */
export type ColumnKind =
  | { kind: 'utf8'; nullable?: boolean }
  | { kind: 'int32'; nullable?: boolean }
  | { kind: 'float32'; nullable?: boolean }
  | { kind: 'bool'; nullable?: boolean }
  | { kind: 'utf8-list' }
  | { kind: 'int32-list' }
  | { kind: 'float32-list' }
  | { kind: 'float32-vector' }; // fixed-size list; the size comes from the data

export function arrowType(col: ColumnKind, dim?: number): DataType {
  switch (col.kind) {
    case 'utf8': return new Utf8();
    case 'int32': return new Int32();
    case 'float32': return new Float32();
    case 'bool': return new Bool();
    case 'utf8-list': return new List(new Field('item', new Utf8(), true));
    case 'int32-list': return new List(new Field('item', new Int32(), true));
    case 'float32-list': return new List(new Field('item', new Float32(), true));
    case 'float32-vector':
      if (!dim) throw new Error('float32-vector column needs a dimension');
      return new FixedSizeList(dim, new Field('item', new Float32(), false));
  }
}

/** Builds a fixed-size-list<float32> vector from one flat buffer without copying it. */
export function float32VectorColumn(flat: Float32Array, dim: number): Vector {
  if (dim <= 0 || flat.length % dim !== 0) {
    throw new Error(`vector buffer of length ${flat.length} is not a whole number of ${dim}-dim rows`);
  }
  const rows = flat.length / dim;
  const child = makeData({ type: new Float32(), length: flat.length, data: flat });
  const data = makeData({
    type: new FixedSizeList(dim, new Field('item', new Float32(), false)),
    length: rows, nullCount: 0, child,
  });
  return makeVector(data);
}

export function columnFromValues(col: ColumnKind, values: unknown[]): Vector {
  if (col.kind === 'float32-vector') {
    const rows = values as ArrayLike<number>[];
    const dim = rows[0]?.length ?? 0;
    const flat = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => {
      if (r.length !== dim) throw new Error(`row ${i}: vector has ${r.length} values, expected ${dim}`);
      flat.set(r, i * dim);
    });
    return float32VectorColumn(flat, Math.max(dim, 1));
  }
  return vectorFromArray(values as never[], arrowType(col) as never);
}
