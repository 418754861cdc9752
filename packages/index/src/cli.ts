import { existsSync } from 'node:fs';
import path from 'node:path';
import { runStageCommand } from '@ragrpo/config';
import { Chunks, DenseVectors, Retrieved, SparseVectors, readTable, writeTable } from '@ragrpo/contracts';
import { createProgress } from '@ragrpo/progress';
import { chunkPoints } from './chunk-points.ts';
import { EmbeddedStore } from './embedded-store.ts';
import { indexChunks } from './index-chunks.ts';
import { chooseStore, openStore } from './open-store.ts';
import { MISSING_DENSE, MISSING_SPARSE, retrieve } from './retrieve.ts';
import { saveEmbeddedStore } from './store-files.ts';
import { describeError } from './retry.ts';

await runStageCommand('index', async (ctx) => {
  const cfg = ctx.pipeline.config.index;
  const embedDir = ctx.stageDir('embed');
  const optional = async (file: string, contract: typeof DenseVectors | typeof SparseVectors) => {
    const p = path.join(embedDir, file);
    return existsSync(p) ? readTable(p, contract) : undefined;
  };
  const needDense = cfg.search !== 'sparse';
  const needSparse = cfg.search !== 'dense';
  const chunks = await readTable(path.join(ctx.stageDir('ingest'), 'chunks.arrow'), Chunks);
  // The store holds every vector kind embed produced (a Qdrant collection with both named vectors
  // serves any search later); the search method only decides which ones must be there.
  const chunkDense = await optional('chunks.dense.arrow', DenseVectors);
  const chunkSparse = await optional('chunks.sparse.arrow', SparseVectors);
  if (needDense && !chunkDense) throw new Error(`${path.join(embedDir, 'chunks.dense.arrow')}: not found. ${MISSING_DENSE}`);
  if (needSparse && !chunkSparse) throw new Error(`${path.join(embedDir, 'chunks.sparse.arrow')}: not found. ${MISSING_SPARSE}`);
  const questions = {
    dense: needDense ? await optional('questions.dense.arrow', DenseVectors) : undefined,
    sparse: needSparse ? await optional('questions.sparse.arrow', SparseVectors) : undefined,
  };
  if (!questions.dense && !questions.sparse) {
    throw new Error(`${embedDir}: no question vectors: configure ingest.questions so ingest writes questions.arrow and embed embeds them`);
  }

  const { points, layout } = chunkPoints(chunks, { dense: chunkDense, sparse: chunkSparse });
  const choice = chooseStore(cfg, ctx.pipeline.name);
  const storeDir = path.join(ctx.outDir, 'store');
  const store = await openStore(choice, cfg, storeDir, (what, attempt, delay, err) =>
    ctx.log.warn(`Qdrant ${what}: retry ${attempt} in ${Math.round(delay)} ms (${describeError(err)})`));
  try {
    ctx.log.info(`store: ${store.kind} (${choice.kind === 'qdrant' ? store.location : 'store/'}), search: ${cfg.search}, top_k: ${cfg.top_k}`);
    const upserts = createProgress({ stage: 'index', task: 'upsert chunks', total: points.length, unit: 'chunks' });
    let last = 0;
    await indexChunks(store, points, layout, {
      batchSize: choice.kind === 'qdrant' ? cfg.qdrant.batch_size : 4096,
      onProgress: (done) => { upserts.tick(done - last); last = done; },
    });
    upserts.done();
    if (store instanceof EmbeddedStore) await saveEmbeddedStore(store, storeDir);

    const nQuestions = (questions.dense ?? questions.sparse)!.numRows;
    const queries = createProgress({ stage: 'index', task: `${cfg.search} queries`, total: nQuestions, unit: 'questions' });
    let asked = 0;
    const retrieved = await retrieve(store, questions, {
      search: cfg.search, top_k: cfg.top_k, rrf_k: cfg.rrf_k, prefetch: cfg.prefetch,
      onProgress: (done) => { queries.tick(done - asked); asked = done; },
    });
    queries.done();
    await writeTable(path.join(ctx.outDir, 'retrieved.arrow'), Retrieved, retrieved);
    return `${points.length} chunks in the ${store.kind} store, ${nQuestions} questions x top ${cfg.top_k} (${cfg.search}) = ${retrieved.numRows} rows`;
  } finally {
    await store.close();
  }
});
