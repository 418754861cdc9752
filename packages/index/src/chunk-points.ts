import type { Table } from 'apache-arrow';
import { readDenseVectors, readSparseVectors } from './arrow-vectors.ts';
import type { StoreLayout, StorePoint } from './vector-store.ts';

/**
 * Joins chunks.arrow (text and payload fields) with the embed stage's chunk vectors by chunk_id.
 * The vectors are usually in chunk order, so the join is positional with an id check, falling
 * back to a lookup when the order differs. Every chunk must have every configured vector.
 */
export function chunkPoints(chunks: Table, vectors: { dense?: Table; sparse?: Table }): { points: StorePoint[]; layout: StoreLayout } {
  if (!vectors.dense && !vectors.sparse) throw new Error('index: no chunk vectors: configure embed.dense and/or embed.sparse and run the embed stage');
  const col = (name: string) => {
    const c = chunks.getChild(name);
    if (!c) throw new Error(`chunks.arrow: column '${name}' is missing. Re-run the ingest stage.`);
    return c.toArray() as string[];
  };
  const ids = col('chunk_id'), text = col('text'), docIds = col('doc_id'), sources = col('source'), metadata = col('metadata');
  const dense = vectors.dense ? readDenseVectors(vectors.dense) : null;
  const sparse = vectors.sparse ? readSparseVectors(vectors.sparse) : null;
  const denseRow = dense ? rowLookup(ids, dense.ids, 'chunks.dense.arrow') : null;
  const sparseRow = sparse ? rowLookup(ids, sparse.ids, 'chunks.sparse.arrow') : null;
  const points: StorePoint[] = ids.map((id, i) => {
    const point: StorePoint = { payload: { chunk_id: id, text: text[i], doc_id: docIds[i], source: sources[i], metadata: metadata[i] } };
    if (dense && denseRow) {
      const r = denseRow(i);
      point.dense = dense.flat.subarray(r * dense.dim, (r + 1) * dense.dim);
    }
    if (sparse && sparseRow) point.sparse = sparse.vectors[sparseRow(i)];
    return point;
  });
  return { points, layout: { denseDim: dense ? dense.dim : null, sparse: sparse !== null } };
}

/** Maps row i of chunks.arrow to its row in a vectors file; a missing chunk is a clear error. */
function rowLookup(chunkIds: readonly string[], vectorIds: readonly string[], file: string): (i: number) => number {
  const aligned = chunkIds.length === vectorIds.length && chunkIds.every((id, i) => id === vectorIds[i]);
  if (aligned) return (i) => i;
  const rowOf = new Map<string, number>();
  vectorIds.forEach((id, r) => rowOf.set(id, r));
  return (i) => {
    const r = rowOf.get(chunkIds[i]);
    if (r === undefined) throw new Error(`${file}: no vector for chunk_id '${chunkIds[i]}' (row ${i} of chunks.arrow). Re-run the embed stage so it matches ingest.`);
    return r;
  };
}
