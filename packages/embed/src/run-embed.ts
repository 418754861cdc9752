import type { EmbedConfig } from '@ragrpo/config';
import { createProgress } from '@ragrpo/progress';
import type { Table } from 'apache-arrow';
import { builtinStopwords, createAnalyzer } from './sparse/analyzer.ts';
import { bm25DocumentVector, bm25DocumentVectorFromTerms, bm25QueryVector, fitBm25, type Bm25Model } from './sparse/bm25.ts';
import { loadDenseEmbedder, type DenseEmbedder } from './dense/embedder.ts';
import { denseVectorTable, sparseVectorTable, type VectorRole } from './tables.ts';

/** One set of texts to embed: chunks (role document), questions and POVs (role query). */
export interface TextSet {
  /** Artifact prefix: 'chunks', 'questions', 'povs'. */
  name: string;
  role: VectorRole;
  ids: string[];
  texts: string[];
}

export interface EmbedRunOptions {
  /** Base for relative paths (model folders, models_dir). */
  root: string;
  /** Stop words read from embed.sparse.stopwords, when given (the caller does the file IO). */
  stopwords?: string[];
  /** Progress lines sink (tests); default stderr. */
  sink?: (line: string) => void;
}

export interface EmbedArtifacts {
  /** Artifact name (stage.json `writes`, e.g. 'chunks_sparse') -> table. */
  tables: { artifact: string; table: Table }[];
  bm25?: Bm25Model;
  summary: string;
}

type Tables = EmbedArtifacts['tables'];

function embedSparse(sets: TextSet[], docs: TextSet, s: NonNullable<EmbedConfig['sparse']>, o: EmbedRunOptions, tables: Tables): Bm25Model {
  const fitProgress = createProgress({ stage: 'embed', task: 'bm25 analyse chunks', total: docs.texts.length, unit: 'chunks', sink: o.sink });
  const stopwords = o.stopwords ?? builtinStopwords(s.language);
  const analyze = createAnalyzer({ language: s.language, stem: s.stem, stopwords });
  // Analyse the documents once: the same terms give the statistics and the document vectors.
  const docTerms = docs.texts.map((t) => { fitProgress.tick(); return analyze(t); });
  const bm = fitBm25(docTerms, { k1: s.k1, b: s.b, language: s.language, stem: s.stem, stopwords });
  fitProgress.done();
  for (const set of sets) {
    const vectors = set === docs
      ? docTerms.map((terms) => bm25DocumentVectorFromTerms(bm, terms))
      : set.texts.map((t) => (set.role === 'document' ? bm25DocumentVector : bm25QueryVector)(bm, t));
    tables.push({ artifact: `${set.name}_sparse`, table: sparseVectorTable(set.ids, vectors, set.role, bm.model.vocab.length) });
  }
  return bm.model;
}

async function embedDense(sets: TextSet[], embedder: DenseEmbedder, o: EmbedRunOptions, tables: Tables): Promise<number> {
  let dim = 0;
  for (const set of sets) {
    const progress = createProgress({ stage: 'embed', task: `dense ${set.name}`, total: set.texts.length, unit: set.name, sink: o.sink });
    const r = await embedder.embed(set.texts, set.role, (n) => progress.tick(n));
    progress.done();
    dim = r.dim;
    tables.push({
      artifact: `${set.name}_dense`,
      table: denseVectorTable(set.ids, r.flat, r.dim, {
        model: embedder.model, role: set.role, normalized: embedder.normalize, pooling: embedder.pooling, prefix: embedder.prefix(set.role),
      }),
    });
  }
  return dim;
}

/**
 * The embed stage without file IO: BM25 fitted on the document set (its vectors carry saturated
 * term frequencies, the query sets' carry IDF), and/or dense vectors with the configured model.
 * BM25 statistics come from the documents (chunks) only.
 */
export async function embedTextSets(sets: TextSet[], config: EmbedConfig, o: EmbedRunOptions): Promise<EmbedArtifacts> {
  const docs = sets.find((s) => s.role === 'document');
  if (!docs) throw new Error('embed: no document set (chunks) to embed');
  const tables: Tables = [];
  const parts: string[] = [];
  let bm25: Bm25Model | undefined;
  // Load the model first so a missing model folder fails before any BM25 work is done.
  const d = config.dense;
  const embedder = d && await loadDenseEmbedder({
    model: d.model, pooling: d.pooling, normalize: d.normalize,
    queryPrefix: d.query_prefix, documentPrefix: d.document_prefix,
    batchSize: d.batch_size, dtype: d.dtype, allowRemote: d.allow_remote, modelsDir: d.models_dir, root: o.root,
  });
  try {
    if (config.sparse) {
      bm25 = embedSparse(sets, docs, config.sparse, o, tables);
      parts.push(`bm25 over ${bm25.N} chunks, ${bm25.vocab.length} terms`);
    }
    if (embedder) {
      const dim = await embedDense(sets, embedder, o, tables);
      parts.push(`dense ${embedder.model} (${dim} dims, ${embedder.pooling} pooling)`);
    }
  } finally {
    await embedder?.dispose();
  }
  const counts = sets.map((s) => `${s.texts.length} ${s.name}`).join(', ');
  return { tables, bm25, summary: `embedded ${counts}: ${parts.join('; ')}` };
}
