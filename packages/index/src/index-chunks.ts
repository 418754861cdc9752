import type { StoreLayout, StorePoint, VectorStore } from './vector-store.ts';

/**
 * Rebuilds the store from scratch (the stage is a pure function of its inputs) and upserts the
 * points in batches, reporting progress after each batch.
 */
export async function indexChunks(
  store: VectorStore, points: readonly StorePoint[], layout: StoreLayout,
  opts: { batchSize: number; onProgress?(done: number, total: number): void },
): Promise<number> {
  await store.reset(layout);
  for (let at = 0; at < points.length; at += opts.batchSize) {
    const end = Math.min(points.length, at + opts.batchSize);
    await store.upsert(points.slice(at, end));
    opts.onProgress?.(end, points.length);
  }
  const stored = await store.count();
  if (stored !== points.length) {
    throw new Error(`${store.location}: holds ${stored} points after upserting ${points.length} chunks; chunk ids must be unique (check chunks.arrow)`);
  }
  return stored;
}
