import { describe, expect, it } from 'vitest';
import { Retrieved, checkSchema, tableRows } from '@ragrpo/contracts';
import { EmbeddedStore, chunkPoints, indexChunks, retrieve } from '../src/index.ts';
import { bm25, chunksTable, denseTable, hashedEmbedding, sparseTable, wineChunks } from './fixtures.ts';

const questions = [
  { id: 'q1', text: 'dry riesling with lime' },
  { id: 'q2', text: 'cabernet sauvignon with firm tannins' },
  { id: 'q3', text: 'no overlap xyzzy' },
];

function fixture() {
  const chunks = wineChunks(120);
  const { docVectors, query } = bm25(chunks.map((c) => c.text));
  const ids = chunks.map((c) => c.chunk_id);
  return {
    chunks: chunksTable(chunks),
    chunkDense: denseTable(ids, chunks.map((c) => hashedEmbedding(c.text)), 'document'),
    chunkSparse: sparseTable(ids, docVectors, 'document'),
    qDense: denseTable(questions.map((q) => q.id), questions.map((q) => hashedEmbedding(q.text)), 'query'),
    qSparse: sparseTable(questions.map((q) => q.id), questions.map((q) => query(q.text)), 'query'),
  };
}

async function storeFor(fx: ReturnType<typeof fixture>) {
  const { points, layout } = chunkPoints(fx.chunks, { dense: fx.chunkDense, sparse: fx.chunkSparse });
  const store = new EmbeddedStore();
  const progress: number[] = [];
  await indexChunks(store, points, layout, { batchSize: 50, onProgress: (d) => progress.push(d) });
  return { store, progress };
}

describe('retrieve', () => {
  const fx = fixture();

  it('writes a Retrieved table: top-k per question, rank 1-based, best first', async () => {
    const { store, progress } = await storeFor(fx);
    expect(progress).toEqual([50, 100, 120]);
    const ticks: number[] = [];
    const table = await retrieve(store, { dense: fx.qDense, sparse: fx.qSparse }, { search: 'hybrid', top_k: 4, batch_size: 2, onProgress: (d) => ticks.push(d) });
    checkSchema(table.schema, Retrieved, 'retrieved');
    expect(ticks).toEqual([2, 3]);
    const rows = tableRows<{ question_id: string; rank: number; chunk_id: string; score: number; method: string; text: string }>(table);
    expect(rows).toHaveLength(12);
    for (const q of questions) {
      const mine = rows.filter((r) => r.question_id === q.id);
      expect(mine.map((r) => r.rank)).toEqual([1, 2, 3, 4]);
      expect(mine.every((r) => r.method === 'hybrid')).toBe(true);
      for (let i = 1; i < mine.length; i++) expect(mine[i - 1].score).toBeGreaterThanOrEqual(mine[i].score);
    }
    const top = rows.find((r) => r.question_id === 'q1' && r.rank === 1)!;
    expect(top.text.toLowerCase()).toContain('riesling');
    // the same as asking the store directly
    const [direct] = await store.searchHybrid([hashedEmbedding(questions[0].text)], [tableRows<{ indices: Int32Array; values: Float32Array }>(fx.qSparse)[0]], 4, { prefetch: 50, rrfK: 60 });
    expect(rows.filter((r) => r.question_id === 'q1').map((r) => r.chunk_id)).toEqual(direct.map((h) => h.chunk_id));
  });

  it('sparse search: a question sharing no term with any chunk gets no rows', async () => {
    const { store } = await storeFor(fx);
    const rows = tableRows<{ question_id: string; method: string }>(await retrieve(store, { sparse: fx.qSparse }, { search: 'sparse', top_k: 3 }));
    expect(rows.filter((r) => r.question_id === 'q3')).toHaveLength(0);
    expect(rows.filter((r) => r.question_id === 'q1')).toHaveLength(3);
    expect(rows.every((r) => r.method === 'sparse')).toBe(true);
  });

  it('names the missing artifact and the embed option to set', async () => {
    const { store } = await storeFor(fx);
    await expect(retrieve(store, { sparse: fx.qSparse }, { search: 'dense', top_k: 3 }))
      .rejects.toThrow(/dense search needs questions.dense.arrow .* set embed.dense.model/);
    await expect(retrieve(store, { dense: fx.qDense }, { search: 'hybrid', top_k: 3 }))
      .rejects.toThrow(/sparse search needs questions.sparse.arrow .* set embed.sparse/);
  });

  it('matches dense and sparse question vectors by id, whatever their order', async () => {
    const { store } = await storeFor(fx);
    const { query } = bm25(wineChunks(120).map((c) => c.text));
    const reversed = sparseTable([...questions].reverse().map((q) => q.id), [...questions].reverse().map((q) => query(q.text)), 'query');
    const a = tableRows(await retrieve(store, { dense: fx.qDense, sparse: fx.qSparse }, { search: 'hybrid', top_k: 5 }));
    const b = tableRows(await retrieve(store, { dense: fx.qDense, sparse: reversed }, { search: 'hybrid', top_k: 5 }));
    expect(b).toEqual(a);
    const missing = sparseTable(['q1'], [query('riesling')], 'query');
    await expect(retrieve(store, { dense: fx.qDense, sparse: missing }, { search: 'hybrid', top_k: 5 }))
      .rejects.toThrow(/questions.sparse.arrow: no vector for question_id 'q2'/);
  });

  it('a chunk without a vector is an error naming the chunk and the file', () => {
    const partial = sparseTable(['wine-0'], [{ indices: Int32Array.from([1]), values: Float32Array.from([1]) }], 'document');
    expect(() => chunkPoints(fx.chunks, { sparse: partial })).toThrow(/chunks.sparse.arrow: no vector for chunk_id 'wine-1' \(row 1 of chunks.arrow\)/);
  });
});
