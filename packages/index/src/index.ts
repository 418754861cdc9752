// @ragrpo/index: stage 3. Chunks go into a vector store (embedded, or a Qdrant collection);
// every question retrieves its top-k chunks (dense, sparse, or hybrid with RRF).
export type { ChunkPayload, HybridOptions, SearchHit, SearchMethod, StoreLayout, StorePoint, VectorStore } from './vector-store.ts';
export { EmbeddedStore, normalizeInPlace } from './embedded-store.ts';
export { QdrantStore, DENSE_VECTOR, SPARSE_VECTOR, isTransient, type QdrantStoreOptions } from './qdrant-store.ts';
export { saveEmbeddedStore, loadEmbeddedStore, StorePayload, STORE_FORMAT, STORE_FORMAT_VERSION, type StoreManifest } from './store-files.ts';
export { denseTopK, type TopKResult } from './dense-topk.ts';
export { naiveDenseTopK } from './naive-search.ts';
export { SparseInvertedIndex, type SparseVector } from './sparse-index.ts';
export { reciprocalRankFusion, defaultPrefetch } from './rrf.ts';
export { TopKHeap } from './top-k-heap.ts';
export { pointIdFor } from './point-id.ts';
export { withRetry, describeError, type RetryOptions } from './retry.ts';
export { chunkPoints } from './chunk-points.ts';
export { indexChunks } from './index-chunks.ts';
export { retrieve, MISSING_DENSE, MISSING_SPARSE, type RetrieveOptions, type QuestionVectors } from './retrieve.ts';
export { chooseStore, openStore, type StoreChoice } from './open-store.ts';
export { readDenseVectors, readSparseVectors, denseVectorsTable, sparseVectorsTable } from './arrow-vectors.ts';
export { runIndex, type IndexInputs, type IndexRunOptions, type IndexResult } from './run-index.ts';
