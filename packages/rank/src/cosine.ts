import type { DenseVectorSet, SparseVectorSet, VectorSet } from './vector-set.ts';

/** A row-major matrix: value (i, j) is values[i * cols + j]. */
export interface Matrix {
  rows: number;
  cols: number;
  values: Float64Array;
}

/**
 * Cosine similarity of every row of `a` with every row of `b`. A zero vector has no direction,
 * so its cosine with anything is 0 (not NaN): a chunk with no known terms adds nothing to a POV score.
 */
export function cosineMatrix(a: VectorSet, b: VectorSet): Matrix {
  if (a.kind !== b.kind) throw new Error(`cannot compare ${a.kind} vectors with ${b.kind} vectors; embed chunks and POVs with the same kind`);
  return a.kind === 'dense' ? denseCosine(a, b as DenseVectorSet) : sparseCosine(a, b as SparseVectorSet);
}

function denseCosine(a: DenseVectorSet, b: DenseVectorSet): Matrix {
  if (a.ids.length && b.ids.length && a.dim !== b.dim) {
    throw new Error(`dense vectors of different sizes: ${a.dim} (chunks) vs ${b.dim} (POVs); embed both with the same model`);
  }
  const dim = a.dim;
  const normsA = rowNorms(a.flat, a.ids.length, dim);
  const normsB = rowNorms(b.flat, b.ids.length, dim);
  const out = new Float64Array(a.ids.length * b.ids.length);
  for (let i = 0; i < a.ids.length; i++) {
    for (let j = 0; j < b.ids.length; j++) {
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += a.flat[i * dim + k] * b.flat[j * dim + k];
      out[i * b.ids.length + j] = cosineFrom(dot, normsA[i], normsB[j]);
    }
  }
  return { rows: a.ids.length, cols: b.ids.length, values: out };
}

function rowNorms(flat: Float32Array, rows: number, dim: number): Float64Array {
  const norms = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += flat[i * dim + k] * flat[i * dim + k];
    norms[i] = Math.sqrt(s);
  }
  return norms;
}

/** A sparse row as a term -> weight map; a repeated index adds up, as densifying the row would. */
function sparseRow(indices: ArrayLike<number>, values: ArrayLike<number>): { terms: Map<number, number>; norm: number } {
  const terms = new Map<number, number>();
  for (let k = 0; k < indices.length; k++) terms.set(indices[k], (terms.get(indices[k]) ?? 0) + values[k]);
  let s = 0;
  for (const v of terms.values()) s += v * v;
  return { terms, norm: Math.sqrt(s) };
}

function sparseCosine(a: SparseVectorSet, b: SparseVectorSet): Matrix {
  const rowsA = a.ids.map((_, i) => sparseRow(a.indices[i], a.values[i]));
  const rowsB = b.ids.map((_, j) => sparseRow(b.indices[j], b.values[j]));
  const out = new Float64Array(rowsA.length * rowsB.length);
  rowsA.forEach((ra, i) => {
    rowsB.forEach((rb, j) => {
      // Walk the shorter map, look up in the longer one.
      const [small, large] = ra.terms.size <= rb.terms.size ? [ra.terms, rb.terms] : [rb.terms, ra.terms];
      let dot = 0;
      for (const [t, v] of small) {
        const w = large.get(t);
        if (w !== undefined) dot += v * w;
      }
      out[i * rowsB.length + j] = cosineFrom(dot, ra.norm, rb.norm);
    });
  });
  return { rows: rowsA.length, cols: rowsB.length, values: out };
}

function cosineFrom(dot: number, na: number, nb: number): number {
  if (na === 0 || nb === 0) return 0;
  // Rounding can push |cos| a hair past 1 for parallel vectors.
  return Math.max(-1, Math.min(1, dot / (na * nb)));
}
