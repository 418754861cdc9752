// @ragrpo/embed: sparse BM25 and dense (transformers.js) vectors for chunks, questions and POVs.
export * from './sparse/analyzer.ts';
export * from './sparse/bm25.ts';
export * from './dense/presets.ts';
export * from './dense/model-folder.ts';
export * from './dense/embedder.ts';
export * from './tables.ts';
export * from './run-embed.ts';
