import { excerpt } from './heatmap.ts';
import type { QuestionRanking, RankedChunk } from './rank-retrieved.ts';

export interface ReportQuestion {
  ranking: QuestionRanking;
  question: string;
  /** Heatmap image path relative to index.html (PNG preferred, else SVG); absent when none was drawn. */
  image?: string;
}

export interface ReportInput {
  pipeline: string;
  vectors: 'dense' | 'sparse';
  topN: number;
  /** rank.pov_weight: 1 = pure POV order. */
  povWeight: number;
  /** Share of questions with known gold chunks that have one in the context (null when none are known). */
  goldInContext: { questions: number; share: number; byPovWeight: { povWeight: number; share: number }[] } | null;
  povs: { id: string; text: string }[];
  questions: ReportQuestion[];
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const CSS = `
body { font-family: system-ui, "DejaVu Sans", sans-serif; margin: 2rem; color: #222; max-width: 1600px; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2.5rem; border-top: 1px solid #ddd; padding-top: 1rem; }
.meta { color: #555; } .qid { color: #777; font-weight: normal; font-size: 0.9rem; }
.orders { display: flex; gap: 1.5rem; align-items: flex-start; flex-wrap: wrap; }
.orders > div { flex: 1 1 600px; min-width: 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.85rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.4rem; vertical-align: top; text-align: left; }
th { background: #f4f4f4; } td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.ctx td { background: #fff4e0; }
img.heatmap { max-width: 100%; border: 1px solid #eee; }
ol.povs li { margin: 0.15rem 0; } .empty { color: #a33; }
`;

function orderTable(caption: string, chunks: RankedChunk[], first: 'similarity' | 'pov'): string {
  const head = first === 'similarity'
    ? '<tr><th>ret</th><th>similarity</th><th>POV #</th><th>POV score</th><th>text</th></tr>'
    : '<tr><th>context #</th><th>POV #</th><th>POV score</th><th>ret</th><th>similarity</th><th>text</th></tr>';
  const rows = chunks.map((c) => {
    const sim = `<td class="num">${c.similarityRank}</td><td class="num">${c.similarity.toFixed(4)}</td>`;
    const pov = `<td class="num">${c.povRank}</td><td class="num">${c.povScore.toFixed(4)}</td>`;
    const text = `<td title="${escapeHtml(c.chunkId)}">${escapeHtml(excerpt(c.text, 240))}</td>`;
    const ctx = `<td class="num">${c.contextRank}</td>`;
    return `<tr class="${c.inContext ? 'ctx' : ''}">${first === 'similarity' ? sim + pov : ctx + pov + sim}${text}</tr>`;
  });
  return `<div><h3>${caption}</h3><table>${head}${rows.join('')}</table></div>`;
}

/** One self-contained page a person opens in a browser: every question's heatmap and both orders. */
export function renderIndexHtml(input: ReportInput): string {
  const sections = input.questions.map(({ ranking, question, image }) => {
    const title = `<h2>${escapeHtml(question)} <span class="qid">(${escapeHtml(ranking.questionId)})</span></h2>`;
    if (ranking.chunks.length === 0) return `${title}<p class="empty">No chunks were retrieved for this question.</p>`;
    const bySimilarity = [...ranking.chunks].sort((a, b) => a.similarityRank - b.similarityRank || a.povRank - b.povRank);
    const img = image ? `<p><a href="${escapeHtml(image)}"><img class="heatmap" src="${escapeHtml(image)}" alt="chunk x POV cosine heatmap"></a></p>` : '';
    return `${title}${img}<div class="orders">${orderTable('Similarity order (retrieval)', bySimilarity, 'similarity')}${orderTable(input.povWeight === 1 ? 'POV order (re-ranked)' : `Context order (relevance and POV score blended, pov_weight ${input.povWeight})`, ranking.chunks, 'pov')}</div>`;
  });
  const povs = input.povs.map((p) => `<li>${escapeHtml(p.text)} <span class="qid">(${escapeHtml(p.id)})</span></li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>POV ranking: ${escapeHtml(input.pipeline)}</title><style>${CSS}</style></head>
<body>
<h1>POV ranking: ${escapeHtml(input.pipeline)}</h1>
<p class="meta">${input.questions.length} questions, ${input.vectors} vectors. POV score = L2 norm of a chunk's cosine row against the POVs; highlighted rows are the top ${input.topN} that become the context${input.povWeight === 1 ? '' : ` (order: relevance and POV score blended, pov_weight ${input.povWeight})`}.</p>
${input.goldInContext ? `<p class="meta">Gold chunk in the context: <b>${(100 * input.goldInContext.share).toFixed(1)}%</b> of ${input.goldInContext.questions} questions with known gold chunks. By pov_weight: ${input.goldInContext.byPovWeight.map((b) => `${b.povWeight}: ${(100 * b.share).toFixed(1)}%`).join(', ')}.</p>` : ''}
<h3>Points of view</h3><ol class="povs">${povs}</ol>
${sections.join('\n')}
</body></html>
`;
}
