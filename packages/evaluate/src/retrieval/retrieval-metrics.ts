import { RetrievalMetrics, tableFromRows } from '@ragrpo/contracts';
import type { Table } from 'apache-arrow';

export interface QuestionGold { question_id: string; split: string; gold_chunk_ids: ArrayLike<string> }
export interface RetrievedRow { question_id: string; rank: number; chunk_id: string }
/** rank's rows; context_rank (ranked v2: the blended order the context takes) falls back to pov_rank (v1). */
export interface RankedRow { question_id: string; pov_rank: number; similarity_rank: number; chunk_id: string; in_context: boolean; context_rank?: number }
export interface PromptChunks { question_id: string; chunk_ids: ArrayLike<string> }

/** Per question with known gold chunks: where the first one sits in each order, and whether it reached the context. */
export interface QuestionRetrieval {
  question_id: string;
  split: string;
  gold: string[];
  /** Chunk ids best first: the index stage's order, the POV order and the context order (POV blended with relevance). */
  indexOrder: string[];
  povOrder: string[];
  contextOrder: string[];
  index_rank: number | null;
  pov_rank: number | null;
  context_rank: number | null;
  in_context: boolean;
  in_prompt: boolean;
  in_similarity_top_n: boolean;
}

export interface OrderMetrics {
  /** Mean over questions of |gold in top k| / |gold|, by k. */
  recall: Record<string, number>;
  /** Mean reciprocal rank of the first gold chunk (0 when it was not retrieved). */
  mrr: number;
}

export interface RetrievalSummary {
  questions: number;
  ks: number[];
  index: OrderMetrics;
  pov: OrderMetrics;
  /** The order rank hands prompts (rank.pov_weight blends relevance into the POV score; = pov at weight 1). */
  context: OrderMetrics;
  /** Share of questions with a gold chunk among rank's in-context chunks (POV order, top_n). */
  share_in_context: number;
  /** ... in the main prompt (after prompts dropped chunks to fit max_prompt_length). */
  share_in_prompt: number;
  /** ... in the top_n of the plain retrieval order (what the context would be without POV re-ranking). */
  share_in_similarity_top_n: number;
  /** Questions whose gold chunk was in the similarity top_n but POV re-ranking pushed it out of the context. */
  pushed_out: string[];
  /** Questions whose gold chunk POV re-ranking pulled into the context. */
  pulled_in: string[];
}

const firstGoldRank = (order: string[], gold: Set<string>) => {
  const i = order.findIndex((c) => gold.has(c));
  return i < 0 ? null : i + 1;
};

/** Per-question retrieval facts for every question that has gold chunks. */
export function questionRetrieval(questions: QuestionGold[], retrieved: RetrievedRow[], ranked: RankedRow[], prompts: PromptChunks[]): QuestionRetrieval[] {
  const byQ = <T extends { question_id: string }>(rows: T[]) => {
    const m = new Map<string, T[]>();
    for (const r of rows) { const l = m.get(r.question_id); if (l) l.push(r); else m.set(r.question_id, [r]); }
    return m;
  };
  const ret = byQ(retrieved);
  const rnk = byQ(ranked);
  const prm = new Map(prompts.map((p) => [p.question_id, Array.from(p.chunk_ids)]));
  const out: QuestionRetrieval[] = [];
  for (const q of questions) {
    const gold = Array.from(q.gold_chunk_ids);
    if (gold.length === 0) continue;
    const g = new Set(gold);
    const indexOrder = [...(ret.get(q.question_id) ?? [])].sort((a, b) => a.rank - b.rank).map((r) => r.chunk_id);
    const rr = rnk.get(q.question_id) ?? [];
    const povOrder = [...rr].sort((a, b) => a.pov_rank - b.pov_rank).map((r) => r.chunk_id);
    const contextOrder = [...rr].sort((a, b) => (a.context_rank ?? a.pov_rank) - (b.context_rank ?? b.pov_rank)).map((r) => r.chunk_id);
    const topN = rr.filter((r) => r.in_context).length;
    out.push({
      question_id: q.question_id, split: q.split, gold, indexOrder, povOrder, contextOrder,
      index_rank: firstGoldRank(indexOrder, g),
      pov_rank: firstGoldRank(povOrder, g),
      context_rank: firstGoldRank(contextOrder, g),
      in_context: rr.some((r) => r.in_context && g.has(r.chunk_id)),
      in_prompt: (prm.get(q.question_id) ?? []).some((c) => g.has(c)),
      in_similarity_top_n: rr.some((r) => r.similarity_rank <= topN && g.has(r.chunk_id)),
    });
  }
  return out;
}

function orderMetrics(rows: QuestionRetrieval[], ks: number[], which: 'indexOrder' | 'povOrder' | 'contextOrder'): OrderMetrics {
  const recall: Record<string, number> = {};
  for (const k of ks) {
    recall[k] = rows.reduce((s, r) => {
      const top = new Set(r[which].slice(0, k));
      return s + r.gold.filter((c) => top.has(c)).length / r.gold.length;
    }, 0) / rows.length;
  }
  const rank = ({ indexOrder: 'index_rank', povOrder: 'pov_rank', contextOrder: 'context_rank' } as const)[which];
  return { recall, mrr: rows.reduce((s, r) => { const k = r[rank]; return s + (k ? 1 / k : 0); }, 0) / rows.length };
}

/**
 * recall@k and MRR of both orders, and how often a gold chunk reached the context, over `rows`;
 * null when no question has gold chunks. Each k is capped at the deepest retrieval (a recall@10 of
 * a top-4 index would only repeat recall@4).
 */
export function summarizeRetrieval(rows: QuestionRetrieval[], ks: number[]): RetrievalSummary | null {
  if (rows.length === 0) return null;
  const depth = Math.max(1, ...rows.map((r) => r.indexOrder.length));
  const capped = [...new Set(ks.map((k) => Math.min(k, depth)))].sort((a, b) => a - b);
  const share = (f: (r: QuestionRetrieval) => boolean) => rows.filter(f).length / rows.length;
  return {
    questions: rows.length, ks: capped,
    index: orderMetrics(rows, capped, 'indexOrder'),
    pov: orderMetrics(rows, capped, 'povOrder'),
    context: orderMetrics(rows, capped, 'contextOrder'),
    share_in_context: share((r) => r.in_context),
    share_in_prompt: share((r) => r.in_prompt),
    share_in_similarity_top_n: share((r) => r.in_similarity_top_n),
    pushed_out: rows.filter((r) => r.in_similarity_top_n && !r.in_context).map((r) => r.question_id),
    pulled_in: rows.filter((r) => !r.in_similarity_top_n && r.in_context).map((r) => r.question_id),
  };
}

export function retrievalTable(rows: QuestionRetrieval[]): Table {
  return tableFromRows(RetrievalMetrics, rows.map((r) => ({
    question_id: r.question_id, split: r.split, gold_chunks: r.gold.length, index_rank: r.index_rank, pov_rank: r.pov_rank, context_rank: r.context_rank,
    in_context: r.in_context, in_prompt: r.in_prompt, in_similarity_top_n: r.in_similarity_top_n,
  })));
}
