import path from 'node:path';
import type { IndexConfig } from '@ragrpo/config';
import { createProgress } from '@ragrpo/progress';
import type { Table } from 'apache-arrow';
import { chunkPoints } from './chunk-points.ts';
import { EmbeddedStore } from './embedded-store.ts';
import { indexChunks } from './index-chunks.ts';
import { chooseStore, openStore } from './open-store.ts';
import { MISSING_DENSE, MISSING_SPARSE, retrieve } from './retrieve.ts';
import { describeError } from './retry.ts';
import { saveEmbeddedStore } from './store-files.ts';

/** What the index stage reads: ingest's chunks and whichever vectors embed wrote. */
export interface IndexInputs {
  chunks: Table;
  chunkDense?: Table;
  chunkSparse?: Table;
  questionDense?: Table;
  questionSparse?: Table;
}

export interface IndexRunOptions {
  /** Names the Qdrant collection when index.qdrant.collection is unset. */
  pipelineName: string;
  /** Where the embedded store's files go (unused with Qdrant). */
  storeDir: string;
  /** Where missing inputs are reported from (embed's folder), for the error messages. */
  inputsLabel?: string;
  warn?: (message: string) => void;
  info?: (message: string) => void;
  /** Progress lines sink (tests); default stderr. */
  sink?: (line: string) => void;
}

export interface IndexResult {
  retrieved: Table;
  summary: string;
}

/**
 * The index stage without file IO of its own: every chunk with every vector kind embed produced
 * goes into the store (a Qdrant collection with both named vectors serves any search later; the
 * search method only decides which ones must be there), then every question retrieves its top-k.
 */
export async function runIndex(inputs: IndexInputs, cfg: IndexConfig, opts: IndexRunOptions): Promise<IndexResult> {
  const where = opts.inputsLabel ?? 'embed';
  const needDense = cfg.search !== 'sparse';
  const needSparse = cfg.search !== 'dense';
  if (needDense && !inputs.chunkDense) throw new Error(`${path.join(where, 'chunks.dense.arrow')}: not found. ${MISSING_DENSE}`);
  if (needSparse && !inputs.chunkSparse) throw new Error(`${path.join(where, 'chunks.sparse.arrow')}: not found. ${MISSING_SPARSE}`);
  const questions = {
    dense: needDense ? inputs.questionDense : undefined,
    sparse: needSparse ? inputs.questionSparse : undefined,
  };
  if (!questions.dense && !questions.sparse) {
    throw new Error(`${where}: no question vectors: configure ingest.questions so ingest writes questions.arrow and embed embeds them`);
  }

  const { points, layout } = chunkPoints(inputs.chunks, { dense: inputs.chunkDense, sparse: inputs.chunkSparse });
  const choice = chooseStore(cfg, opts.pipelineName);
  const store = await openStore(choice, cfg, opts.storeDir, (what, attempt, delay, err) =>
    opts.warn?.(`Qdrant ${what}: retry ${attempt} in ${Math.round(delay)} ms (${describeError(err)})`));
  try {
    opts.info?.(`store: ${store.kind} (${choice.kind === 'qdrant' ? store.location : 'store/'}), search: ${cfg.search}, top_k: ${cfg.top_k}`);
    const upserts = createProgress({ stage: 'index', task: 'upsert chunks', total: points.length, unit: 'chunks', sink: opts.sink });
    let last = 0;
    await indexChunks(store, points, layout, {
      batchSize: choice.kind === 'qdrant' ? cfg.qdrant.batch_size : 4096,
      onProgress: (done) => { upserts.tick(done - last); last = done; },
    });
    upserts.done();
    if (store instanceof EmbeddedStore) await saveEmbeddedStore(store, opts.storeDir);

    const nQuestions = (questions.dense ?? questions.sparse)!.numRows;
    const queries = createProgress({ stage: 'index', task: `${cfg.search} queries`, total: nQuestions, unit: 'questions', sink: opts.sink });
    let asked = 0;
    const retrieved = await retrieve(store, questions, {
      search: cfg.search, top_k: cfg.top_k, rrf_k: cfg.rrf_k, prefetch: cfg.prefetch,
      onProgress: (done) => { queries.tick(done - asked); asked = done; },
    });
    queries.done();
    return {
      retrieved,
      summary: `${points.length} chunks in the ${store.kind} store, ${nQuestions} questions x top ${cfg.top_k} (${cfg.search}) = ${retrieved.numRows} rows`,
    };
  } finally {
    await store.close();
  }
}
