import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { vectorFromArray, Utf8 } from 'apache-arrow';
import {
  DenseVectors, SparseVectors, defineContract, readTable, tableFromColumns, writeFileAtomic, writeTable,
} from '@ragrpo/contracts';
import { denseVectorsTable, readDenseVectors, readSparseVectors, sparseVectorsTable } from './arrow-vectors.ts';
import { EmbeddedStore } from './embedded-store.ts';
import type { ChunkPayload, StoreLayout } from './vector-store.ts';

/** What the embedded store keeps with each point: the Qdrant payload fields. */
export const StorePayload = defineContract({
  name: 'store_payload', version: 1,
  description: 'Payload of the embedded store, one row per point, in store row order.',
  columns: {
    chunk_id: { kind: 'utf8' },
    text: { kind: 'utf8' },
    doc_id: { kind: 'utf8' },
    source: { kind: 'utf8' },
    metadata: { kind: 'utf8' },
  },
});

export const STORE_FORMAT = 'ragrpo-embedded-store';
export const STORE_FORMAT_VERSION = 1;

export interface StoreManifest {
  format: typeof STORE_FORMAT;
  version: number;
  points: number;
  dense_dim: number | null;
  sparse: boolean;
  /** Dense rows are unit length: a dot product is the cosine. */
  dense_normalized: boolean;
  files: { payload: string; dense?: string; sparse?: string };
}

/**
 * Writes the store under `dir`: payload.arrow, dense.arrow (normalised rows), sparse.arrow and
 * manifest.json, the manifest last so a folder with a manifest is always complete.
 */
export async function saveEmbeddedStore(store: EmbeddedStore, dir: string): Promise<StoreManifest> {
  const snap = store.snapshot();
  const ids = snap.payloads.map((p) => p.chunk_id);
  const col = (name: keyof ChunkPayload) => vectorFromArray(snap.payloads.map((p) => p[name]), new Utf8());
  const payload = tableFromColumns(StorePayload, {
    chunk_id: col('chunk_id'), text: col('text'), doc_id: col('doc_id'), source: col('source'), metadata: col('metadata'),
  });
  const manifest: StoreManifest = {
    format: STORE_FORMAT, version: STORE_FORMAT_VERSION, points: ids.length,
    dense_dim: snap.layout.denseDim, sparse: snap.layout.sparse, dense_normalized: true,
    files: { payload: 'payload.arrow' },
  };
  await writeTable(path.join(dir, 'payload.arrow'), StorePayload, payload);
  if (snap.dense && snap.layout.denseDim !== null) {
    manifest.files.dense = 'dense.arrow';
    await writeTable(path.join(dir, 'dense.arrow'), DenseVectors,
      denseVectorsTable(ids, snap.dense, snap.layout.denseDim, { 'ragrpo.normalized': 'true', 'ragrpo.role': 'document' }));
  }
  if (snap.sparse) {
    manifest.files.sparse = 'sparse.arrow';
    await writeTable(path.join(dir, 'sparse.arrow'), SparseVectors, sparseVectorsTable(ids, snap.sparse, { 'ragrpo.role': 'document' }));
  }
  await writeFileAtomic(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/** Reloads a store written by saveEmbeddedStore; `dir` becomes its location. */
export async function loadEmbeddedStore(dir: string): Promise<EmbeddedStore> {
  const manifestFile = path.join(dir, 'manifest.json');
  let manifest: StoreManifest;
  try {
    manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as StoreManifest;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${manifestFile}: ${code === 'ENOENT' ? 'not found' : 'unreadable'}: not an embedded store folder. Re-run the index stage with the embedded store.`);
  }
  if (manifest.format !== STORE_FORMAT || manifest.version !== STORE_FORMAT_VERSION) {
    throw new Error(`${manifestFile}: format '${manifest.format}' v${manifest.version}, this build reads '${STORE_FORMAT}' v${STORE_FORMAT_VERSION}. Re-run the index stage.`);
  }
  const payloadTable = await readTable(path.join(dir, manifest.files.payload), StorePayload);
  const column = (name: keyof ChunkPayload) => payloadTable.getChild(name)!.toArray() as string[];
  const [chunkIds, text, docIds, sources, metadata] = (['chunk_id', 'text', 'doc_id', 'source', 'metadata'] as const).map(column);
  const n = payloadTable.numRows;
  if (n !== manifest.points) throw new Error(`${dir}: manifest says ${manifest.points} points, payload.arrow has ${n}. Re-run the index stage.`);

  let dense: { ids: string[]; flat: Float32Array; dim: number } | null = null;
  if (manifest.dense_dim !== null) {
    if (!manifest.files.dense) throw new Error(`${manifestFile}: dense_dim is set but no dense file is listed. Re-run the index stage.`);
    dense = readDenseVectors(await readTable(path.join(dir, manifest.files.dense), DenseVectors));
    checkIds(dir, 'dense.arrow', dense.ids, chunkIds);
    if (dense.dim !== manifest.dense_dim) throw new Error(`${dir}/dense.arrow: ${dense.dim}-dim vectors, manifest says ${manifest.dense_dim}. Re-run the index stage.`);
  }
  let sparse: ReturnType<typeof readSparseVectors> | null = null;
  if (manifest.sparse) {
    if (!manifest.files.sparse) throw new Error(`${manifestFile}: sparse is set but no sparse file is listed. Re-run the index stage.`);
    sparse = readSparseVectors(await readTable(path.join(dir, manifest.files.sparse), SparseVectors));
    checkIds(dir, 'sparse.arrow', sparse.ids, chunkIds);
  }

  const store = new EmbeddedStore(dir);
  const layout: StoreLayout = { denseDim: manifest.dense_dim, sparse: manifest.sparse };
  await store.reset(layout);
  const points = Array.from({ length: n }, (_, i) => ({
    payload: { chunk_id: chunkIds[i], text: text[i], doc_id: docIds[i], source: sources[i], metadata: metadata[i] },
    dense: dense ? dense.flat.subarray(i * dense.dim, (i + 1) * dense.dim) : undefined,
    sparse: sparse ? sparse.vectors[i] : undefined,
  }));
  await store.upsert(points);
  return store;
}

function checkIds(dir: string, file: string, ids: readonly string[], expected: readonly string[]): void {
  if (ids.length !== expected.length) throw new Error(`${dir}/${file}: ${ids.length} rows, payload.arrow has ${expected.length}. Re-run the index stage.`);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] !== expected[i]) throw new Error(`${dir}/${file}: row ${i} is '${ids[i]}', payload.arrow has '${expected[i]}'. Re-run the index stage.`);
  }
}
