import type { Table } from 'apache-arrow';
import { PovMatrix, Ranked, tableFromRows } from '@ragrpo/contracts';
import { NO_POVS_MESSAGE, povScores } from './pov-score.ts';
import { allVectors, selectVectors, type VectorSet } from './vector-set.ts';
import { blendedOrder } from './blend.ts';

export interface RankedChunk {
  chunkId: string;
  text: string;
  /** 1-based position in the context order (relevance and POV score blended by povWeight). */
  contextRank: number;
  /** 1-based position by POV score alone. */
  povRank: number;
  /** 1-based position from retrieval (retrieved.arrow's rank). */
  similarityRank: number;
  povScore: number;
  /** The retrieval score. */
  similarity: number;
  blendedScore: number;
  inContext: boolean;
  /** Cosine with each POV, in `povIds` order. */
  cosines: number[];
}

export interface QuestionRanking {
  questionId: string;
  /** Chunks in context order (empty when nothing was retrieved for the question). */
  chunks: RankedChunk[];
}

export interface RankResult {
  ranked: Table;
  povMatrix: Table;
  povIds: string[];
  questions: QuestionRanking[];
  warnings: string[];
}

export interface RankOptions {
  /** How many re-ranked chunks become the context. */
  topN: number;
  /** 0: retrieval order, 1: pure POV order (default), between: the blend of blend.ts. */
  povWeight?: number;
  /**
   * Every question in order (questions.arrow): a question with no retrieved rows is kept, with a
   * warning, instead of vanishing. Questions only found in `retrieved` follow in first-seen order.
   */
  questionIds?: readonly string[];
  /** Names used in error messages, e.g. the file the vectors came from. */
  chunkVectorsName?: string;
  povVectorsName?: string;
}

interface RetrievedRow { question_id: string; rank: number; chunk_id: string; score: number; text: string; order: number }

/**
 * Re-orders every question's retrieved chunks by POV score (seed 002), blended with relevance by
 * `povWeight` (blend.ts), and keeps the pure POV order and the retrieval order beside it. Chunk and POV vectors are DenseVectors/SparseVectors tables or vector sets.
 */
export function rankRetrieved(retrieved: Table, chunkVectors: Table | VectorSet, povVectors: Table | VectorSet, opts: RankOptions): RankResult {
  if (!Number.isInteger(opts.topN) || opts.topN < 1) throw new Error(`rank.top_n must be a positive whole number, got ${opts.topN}`);
  const chunkName = opts.chunkVectorsName ?? 'chunk vectors';
  const povName = opts.povVectorsName ?? 'POV vectors';
  const povs = isVectorSet(povVectors) ? povVectors : allVectors(povVectors, povName);
  // Without POVs only the retrieval order is meaningful: a pipeline asks for it with pov_weight 0.
  if (povs.ids.length === 0 && (opts.povWeight ?? 1) !== 0) throw new Error(NO_POVS_MESSAGE);

  const byQuestion = groupRetrieved(retrieved);
  const questionOrder = [...(opts.questionIds ?? [])];
  const known = new Set(questionOrder);
  for (const q of byQuestion.keys()) if (!known.has(q)) { questionOrder.push(q); known.add(q); }

  const warnings: string[] = [];
  const rankedRows: Record<string, unknown>[] = [];
  const matrixRows: Record<string, unknown>[] = [];
  const questions: QuestionRanking[] = [];
  for (const questionId of questionOrder) {
    const rows = byQuestion.get(questionId) ?? [];
    if (rows.length === 0) {
      warnings.push(`question '${questionId}' has no retrieved chunks; it is kept with an empty ranking (check index.top_k and that the index holds chunks)`);
      questions.push({ questionId, chunks: [] });
      continue;
    }
    const ids = rows.map((r) => r.chunk_id);
    const vecs = isVectorSet(chunkVectors) ? pick(chunkVectors, ids, chunkName) : selectVectors(chunkVectors, ids, chunkName);
    const { cosine, scores, order: povOrder } = povScores(vecs, povs);
    const povRankOf = new Map(povOrder.map((i, pos) => [i, pos + 1]));
    const { blended, order } = blendedOrder(rows.map((r) => r.score), scores, opts.povWeight ?? 1);
    const chunks = order.map((i, pos): RankedChunk => ({
      chunkId: rows[i].chunk_id,
      text: rows[i].text,
      contextRank: pos + 1,
      povRank: povRankOf.get(i)!,
      similarityRank: rows[i].rank,
      povScore: scores[i],
      similarity: rows[i].score,
      blendedScore: blended[i],
      inContext: pos < opts.topN,
      cosines: Array.from(cosine.values.subarray(i * cosine.cols, (i + 1) * cosine.cols)),
    }));
    questions.push({ questionId, chunks });
    for (const c of chunks) {
      rankedRows.push({
        question_id: questionId, context_rank: c.contextRank, pov_rank: c.povRank, similarity_rank: c.similarityRank, chunk_id: c.chunkId,
        pov_score: c.povScore, similarity: c.similarity, blended_score: c.blendedScore, in_context: c.inContext, text: c.text,
      });
      c.cosines.forEach((v, j) => matrixRows.push({ question_id: questionId, chunk_id: c.chunkId, pov_id: povs.ids[j], cosine: v }));
    }
  }
  const meta = { 'ragrpo.top_n': String(opts.topN), 'ragrpo.vectors': povs.kind, 'ragrpo.pov_weight': String(opts.povWeight ?? 1) };
  return {
    ranked: tableFromRows(Ranked, rankedRows as never[], meta),
    povMatrix: tableFromRows(PovMatrix, matrixRows as never[], { ...meta, 'ragrpo.pov_ids': JSON.stringify(povs.ids) }),
    povIds: povs.ids,
    questions,
    warnings,
  };
}

function isVectorSet(v: Table | VectorSet): v is VectorSet {
  return 'kind' in v && (v.kind === 'dense' || v.kind === 'sparse') && 'ids' in v;
}

/** Retrieved rows per question, each list sorted by retrieval rank (file order breaks ties). */
function groupRetrieved(retrieved: Table): Map<string, RetrievedRow[]> {
  const col = (n: string) => {
    const c = retrieved.getChild(n);
    if (!c) throw new Error(`retrieved table: column '${n}' is missing; re-run index`);
    return c;
  };
  const [q, rank, chunk, score, text] = ['question_id', 'rank', 'chunk_id', 'score', 'text'].map(col);
  const out = new Map<string, RetrievedRow[]>();
  for (let i = 0; i < retrieved.numRows; i++) {
    const row: RetrievedRow = {
      question_id: q.get(i), rank: rank.get(i), chunk_id: chunk.get(i), score: score.get(i), text: text.get(i) ?? '', order: i,
    };
    let list = out.get(row.question_id);
    if (!list) out.set(row.question_id, (list = []));
    if (list.some((r) => r.chunk_id === row.chunk_id)) {
      throw new Error(`retrieved table row ${i}: chunk '${row.chunk_id}' appears twice for question '${row.question_id}'; re-run index`);
    }
    list.push(row);
  }
  for (const list of out.values()) list.sort((a, b) => a.rank - b.rank || a.order - b.order);
  return out;
}

function pick(set: VectorSet, ids: string[], where: string): VectorSet {
  const at = new Map(set.ids.map((id, i) => [id, i]));
  const rows = ids.map((id) => {
    const r = at.get(id);
    if (r === undefined) throw new Error(`${where}: no vector for id '${id}'. Re-run embed so it covers every chunk.`);
    return r;
  });
  if (set.kind === 'dense') {
    const flat = new Float32Array(rows.length * set.dim);
    rows.forEach((r, i) => flat.set(set.flat.subarray(r * set.dim, (r + 1) * set.dim), i * set.dim));
    return { kind: 'dense', ids, dim: set.dim, flat };
  }
  return { kind: 'sparse', ids, indices: rows.map((r) => set.indices[r]), values: rows.map((r) => set.values[r]) };
}
