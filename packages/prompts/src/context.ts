// The context a prompt carries: the rank stage's in-context chunks of one question, in the rank
// stage's context order (POV score, blended with relevance by rank.pov_weight; seed 002) or in
// retrieval order, numbered as seed 003 numbers them.

export interface RankedChunk {
  question_id: string;
  chunk_id: string;
  text: string;
  context_rank: number;
  similarity_rank: number;
  in_context: boolean;
}

export interface ContextChunk {
  chunkId: string;
  text: string;
}

/** Each question's in-context chunks, in the chosen order. */
export function contextByQuestion(ranked: RankedChunk[], order: 'rank' | 'similarity', maxChars = 0): Map<string, ContextChunk[]> {
  const out = new Map<string, (ContextChunk & { at: number })[]>();
  for (const r of ranked) {
    if (!r.in_context) continue;
    const list = out.get(r.question_id) ?? [];
    const text = maxChars > 0 && r.text.length > maxChars ? r.text.slice(0, maxChars) : r.text;
    list.push({ chunkId: r.chunk_id, text, at: order === 'rank' ? r.context_rank : r.similarity_rank });
    out.set(r.question_id, list);
  }
  return new Map([...out].map(([q, list]) => [q, list.sort((a, b) => a.at - b.at).map(({ chunkId, text }) => ({ chunkId, text }))]));
}

/** "Document 1:\n\n<text>\n\nDocument 2:\n\n<text>" (seed 003). */
export function numberedDocuments(chunks: readonly ContextChunk[]): string {
  return chunks.map((c, i) => `Document ${i + 1}:\n\n${c.text}`).join('\n\n');
}

export function plainContext(chunks: readonly ContextChunk[]): string {
  return chunks.map((c) => c.text).join('\n\n');
}
