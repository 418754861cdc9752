import type { RewardComparison } from '../stats/compare-rewards.ts';
import type { RetrievalSummary } from '../retrieval/retrieval-metrics.ts';
import type { PreferenceMetrics } from '../preference/predict.ts';

// report.html: one self-contained page (inline CSS, charts as inline SVG, heatmaps as data URIs;
// no script and nothing fetched), so it opens from disk anywhere.

export interface Chart { name: string; title: string; svg: string }

export interface ContextChunk { chunk_id: string; context_rank: number; pov_rank: number; similarity_rank: number; pov_score: number; in_context: boolean; text: string; gold: boolean }

export interface QuestionRow {
  question_id: string;
  anchor: string;
  question: string;
  reference: string | null;
  context: ContextChunk[];
  /** Chunk ids in the prompt, in prompt order (what the policy saw). */
  prompt_chunks: string[];
  before: string;
  after: string | null;
  /** Per reward: per-question means of before and after. */
  rewards: { name: string; before: number | null; after: number | null }[];
  /** after - before of the primary reward; null when either is missing. */
  change: number | null;
  heatmap?: { embedded?: string; link?: string };
}

export interface ReportData {
  pipeline: string;
  notes: string[];
  before: string;
  after: string | null;
  sampling: string;
  primary: string;
  trained: string[];
  evaluationOnly: string[];
  confidence: number;
  resamples: number;
  summary: Record<string, RewardComparison>;
  charts: { intervals: Chart[]; training: Chart[]; sft: Chart[]; retrieval: Chart[]; preference: Chart[] };
  trainingNote: string;
  sftNote: string;
  questions: QuestionRow[];
  examples: number;
  retrieval: { test: RetrievalSummary | null; all: RetrievalSummary | null; note: string };
  heatmapNote: string;
  rankReport: string | null;
  preference: { note: string; metrics: PreferenceMetrics | null; pairs: number; labelled: number; errors: number; rows: string[][] } | null;
}

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const CSS = `
:root { --muted: #666; --line: #ddd; }
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 0; color: #222; display: flex; }
nav { position: sticky; top: 0; align-self: flex-start; height: 100vh; overflow-y: auto; width: 250px; flex: none; border-right: 1px solid var(--line); padding: 1rem; box-sizing: border-box; font-size: 0.85rem; background: #fafafa; }
nav ol { padding-left: 1.1rem; margin: 0.2rem 0; } nav a { color: #1f4e99; text-decoration: none; } nav .qs { max-height: 45vh; overflow-y: auto; }
main { flex: 1; min-width: 0; padding: 1.5rem 2rem; max-width: 1500px; }
h1 { font-size: 1.4rem; margin-top: 0; } h2 { font-size: 1.15rem; margin-top: 2.2rem; border-top: 1px solid var(--line); padding-top: 1rem; } h3 { font-size: 1rem; }
.muted { color: var(--muted); } .note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.4rem 0.7rem; margin: 0.3rem 0; font-size: 0.9rem; }
table { border-collapse: collapse; font-size: 0.85rem; } th, td { border: 1px solid var(--line); padding: 0.25rem 0.45rem; vertical-align: top; text-align: left; }
th { background: #f2f2f2; } td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.wide { width: 100%; table-layout: fixed; } table.wide td { overflow-wrap: anywhere; }
.pos { color: #176a1f; font-weight: bold; } .neg { color: #b0201a; font-weight: bold; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem 2rem; } figure.chart { margin: 0; } figure.chart svg { max-width: 100%; height: auto; }
.answer { white-space: pre-wrap; font-family: "DejaVu Sans Mono", monospace; font-size: 0.8rem; }
details summary { cursor: pointer; color: #1f4e99; } ol.ctx { padding-left: 1.2rem; margin: 0.3rem 0; } ol.ctx li.in { background: #fff4e0; } ol.ctx li.gold::after { content: " (gold)"; color: #176a1f; font-weight: bold; }
.card { border: 1px solid var(--line); border-radius: 4px; padding: 0.5rem 0.8rem; margin: 0.6rem 0; } .sbs { display: flex; gap: 1rem; } .sbs > div { flex: 1; min-width: 0; }
img.heatmap { max-width: 100%; border: 1px solid #eee; } .primary { background: #eef4ff; }
`;

const num = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
const signed = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${x >= 0 ? '+' : ''}${x.toFixed(d)}`);
const cls = (x: number | null) => (x === null || x === 0 ? '' : x > 0 ? 'pos' : 'neg');
const excerpt = (s: string, n: number) => { const f = s.replace(/\s+/g, ' ').trim(); return [...f].length <= n ? f : [...f].slice(0, n - 1).join('') + '…'; };

function charts(list: Chart[]): string {
  return `<div class="charts">${list.map((c) => `<figure class="chart" data-chart="${esc(c.name)}" aria-label="${esc(c.title)}">${c.svg}</figure>`).join('')}</div>`;
}

function summaryTable(d: ReportData): string {
  const pct = Math.round(d.confidence * 100);
  const head = `<tr><th>reward</th><th>before (${pct} % CI)</th>${d.after ? `<th>after (${pct} % CI)</th><th>after - before (${pct} % CI)</th><th>sign test p</th><th>questions up / down / same</th>` : ''}</tr>`;
  const rows = Object.entries(d.summary).map(([name, c]) => {
    const iv = (i: { mean: number; ci_low: number; ci_high: number }, s = false) => `${s ? signed(i.mean) : num(i.mean)} [${num(i.ci_low)}, ${num(i.ci_high)}]`;
    const tags = [name === d.primary ? 'primary' : '', d.evaluationOnly.includes(name) ? 'evaluation only' : ''].filter(Boolean).join(', ');
    const after = d.after && c.after && c.difference
      ? `<td class="num">${iv(c.after)}</td><td class="num ${cls(c.difference.mean)}">${iv(c.difference, true)}</td><td class="num">${num(c.difference.p_value, 4)}</td><td class="num">${c.difference.positive} / ${c.difference.negative} / ${c.difference.ties}</td>`
      : d.after ? '<td>–</td><td>–</td><td>–</td><td>–</td>' : '';
    return `<tr class="${name === d.primary ? 'primary' : ''}"><td>${esc(name)}${tags ? ` <span class="muted">(${tags})</span>` : ''}</td><td class="num">${iv(c.before)}</td>${after}</tr>`;
  });
  return `<table>${head}${rows.join('')}</table>`;
}

function contextList(q: QuestionRow, open = false): string {
  if (q.context.length === 0) return '<span class="muted">nothing retrieved</span>';
  const items = q.context.map((c) => `<li class="${[c.in_context ? 'in' : '', c.gold ? 'gold' : ''].join(' ')}" title="${esc(c.chunk_id)}">#${c.context_rank} (POV ${c.pov_rank}, ret ${c.similarity_rank}, POV score ${c.pov_score.toFixed(2)}) ${esc(excerpt(c.text, 160))}</li>`).join('');
  const inCtx = q.context.filter((c) => c.in_context).length;
  return `<details${open ? ' open' : ''}><summary>${inCtx} of ${q.context.length} chunks in context (context order)</summary><ol class="ctx">${items}</ol></details>`;
}

function rewardCells(q: QuestionRow, after: boolean): string {
  return q.rewards.map((r) => after
    ? `<div>${esc(r.name)}: ${num(r.before)} → ${num(r.after)} <span class="${cls(r.after !== null && r.before !== null ? r.after - r.before : null)}">(${signed(r.after !== null && r.before !== null ? r.after - r.before : null)})</span></div>`
    : `<div>${esc(r.name)}: ${num(r.before)}</div>`).join('');
}

function exampleCard(q: QuestionRow, primary: string): string {
  return `<div class="card"><div><a href="#${q.anchor}">${esc(q.question)}</a> <span class="muted">${esc(q.question_id)}; ${esc(primary)} ${signed(q.change)}</span></div>
<div class="muted">reference: ${esc(q.reference ?? '(none)')}</div>
<div class="sbs"><div><b>before</b><div class="answer">${esc(q.before)}</div></div><div><b>after</b><div class="answer">${esc(q.after ?? '')}</div></div></div></div>`;
}

function questionsTable(d: ReportData): string {
  const after = d.after !== null;
  const head = `<tr><th style="width:16%">question</th><th style="width:18%">context</th><th style="width:14%">reference</th><th>before</th>${after ? '<th>after</th>' : ''}<th style="width:15%">rewards${after ? ' (before → after)' : ''}</th></tr>`;
  const rows = d.questions.map((q) => `<tr id="${q.anchor}" data-question-id="${esc(q.question_id)}">
<td>${esc(q.question)}<div class="muted">${esc(q.question_id)}</div></td><td>${contextList(q)}</td><td>${esc(q.reference ?? '')}</td>
<td class="answer">${esc(q.before)}</td>${after ? `<td class="answer">${esc(q.after ?? '')}</td>` : ''}<td>${rewardCells(q, after)}</td></tr>`);
  return `<table class="wide" id="before-after"><thead>${head}</thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function retrievalTable(s: RetrievalSummary, label: string): string {
  const recall = s.ks.map((k) => `<tr><td>recall@${k}</td><td class="num">${num(s.index.recall[k])}</td><td class="num">${num(s.pov.recall[k])}</td><td class="num">${num(s.context.recall[k])}</td></tr>`).join('');
  return `<h3>${esc(label)} (${s.questions} questions with gold chunks)</h3><table><tr><th>metric</th><th>index order</th><th>POV order</th><th>context order</th></tr>${recall}
<tr><td>MRR</td><td class="num">${num(s.index.mrr)}</td><td class="num">${num(s.pov.mrr)}</td><td class="num">${num(s.context.mrr)}</td></tr>
<tr><td>gold chunk in the top n</td><td class="num">${num(s.share_in_similarity_top_n)}</td><td></td><td class="num">${num(s.share_in_context)}</td></tr>
<tr><td>gold chunk in the prompt</td><td></td><td></td><td class="num">${num(s.share_in_prompt)}</td></tr></table>
<p class="muted">The context order is rank's: the POV score, blended with relevance by rank.pov_weight (the POV order itself at weight 1). The top n of it become the context; the prompt may hold fewer chunks (prompts drops chunks to fit max_prompt_length).</p>
<p>Re-ranking pushed the gold chunk out of the context for ${s.pushed_out.length} question(s)${s.pushed_out.length ? `: ${s.pushed_out.map(esc).join(', ')}` : ''}, and pulled it in for ${s.pulled_in.length}${s.pulled_in.length ? `: ${s.pulled_in.map(esc).join(', ')}` : ''}.</p>`;
}

function heatmaps(d: ReportData): string {
  const items = d.questions.flatMap((q) => {
    const h = q.heatmap;
    if (h?.embedded) return [`<div class="card" id="heatmap-${q.anchor}"><a href="#${q.anchor}">${esc(q.question)}</a><div><img class="heatmap" alt="chunk x POV cosine heatmap for ${esc(q.question_id)}" src="${h.embedded}"></div></div>`];
    if (h?.link) return [`<li><a href="${esc(h.link)}">${esc(q.question)}</a> <span class="muted">(${esc(q.question_id)}, linked)</span></li>`];
    return [];
  });
  const embedded = items.filter((s) => s.startsWith('<div'));
  const linked = items.filter((s) => s.startsWith('<li'));
  return `<p class="note">${esc(d.heatmapNote)}</p>${d.rankReport ? `<p>Both orders of every question: <a href="${esc(d.rankReport)}">the rank page</a>.</p>` : ''}${embedded.join('')}${linked.length ? `<ul>${linked.join('')}</ul>` : ''}`;
}

function preference(d: ReportData): string {
  const p = d.preference;
  if (!p) return '<p class="muted">No preference set in this pipeline (ingest.preferences).</p>';
  const m = p.metrics;
  const metrics = m
    ? `<table><tr><th>pairs</th><th>labelled</th><th>log loss</th><th>accuracy</th><th>scorer failures</th></tr><tr><td class="num">${p.pairs}</td><td class="num">${m.labelled}</td><td class="num">${num(m.log_loss, 4)}</td><td class="num">${num(m.accuracy, 4)}</td><td class="num">${p.errors}</td></tr></table>`
    : `<table><tr><th>pairs</th><th>labelled</th><th>scorer failures</th></tr><tr><td class="num">${p.pairs}</td><td class="num">0</td><td class="num">${p.errors}</td></tr></table>`;
  const rows = p.rows.map((r) => `<tr>${r.map((c, i) => `<td class="${i ? 'num' : ''}">${esc(c)}</td>`).join('')}</tr>`).join('');
  return `${p.note ? `<p class="note">${esc(p.note)}</p>` : ''}${metrics}${charts(d.charts.preference)}
<h3>First predictions</h3><table><tr><th>id</th><th>score a</th><th>score b</th><th>winner_model_a</th><th>winner_model_b</th><th>winner_tie</th><th>label</th></tr>${rows}</table>`;
}

export function renderReport(d: ReportData): string {
  const changed = d.questions.flatMap((q) => (q.change === null ? [] : [{ q, change: q.change }]));
  const best = [...changed].sort((a, b) => b.change - a.change).slice(0, d.examples).filter((c) => c.change > 0).map((c) => c.q);
  const worst = [...changed].sort((a, b) => a.change - b.change).slice(0, d.examples).filter((c) => c.change < 0).map((c) => c.q);
  const nav = `<nav><b>Contents</b><ol>
<li><a href="#summary">Before and after</a></li><li><a href="#training">Training curves</a></li><li><a href="#retrieval">Retrieval</a></li>
${d.after ? '<li><a href="#changes">Best and worst changes</a></li>' : ''}<li><a href="#questions">Every test question</a></li><li><a href="#heatmaps">POV heatmaps</a></li><li><a href="#preference">Pairwise preference</a></li></ol>
<b>Questions</b><ol class="qs">${d.questions.map((q) => `<li><a href="#${q.anchor}">${esc(excerpt(q.question, 60))}</a></li>`).join('')}</ol></nav>`;
  const rewardsLine = `Rewards: ${d.trained.length ? `${d.trained.map(esc).join(', ')} (from the reward stage, what training optimised)` : 'none from the reward stage'}${d.evaluationOnly.length ? `; evaluation only (grpo-train did not know them): ${d.evaluationOnly.map(esc).join(', ')}` : ''}. The gain is judged by <b>${esc(d.primary)}</b>.`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Evaluation: ${esc(d.pipeline)}</title><style>${CSS}</style></head>
<body>${nav}<main>
<h1>Evaluation of pipeline ${esc(d.pipeline)}</h1>
<p>Before: ${esc(d.before)}<br>After: ${d.after ? esc(d.after) : '<i>none (no grpo-train in this pipeline)</i>'}<br>${esc(d.sampling)}<br>${rewardsLine}</p>
${d.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('')}
<h2 id="summary">Before and after</h2>
<p class="muted">Means over the ${d.questions.length} test questions (a question's score is the mean over its samples), ${Math.round(d.confidence * 100)} % percentile bootstrap intervals from ${d.resamples} resamples of the questions${d.after ? '; the difference is paired by question, with a two-sided exact sign test' : ''}. An interval of the difference that contains 0 may be noise.</p>
${summaryTable(d)}
${charts(d.charts.intervals)}
<h2 id="training">Training curves</h2>
${d.trainingNote ? `<p class="muted">${esc(d.trainingNote)}</p>` : ''}${charts(d.charts.training)}
<h3>SFT warm-up</h3>${d.sftNote ? `<p class="muted">${esc(d.sftNote)}</p>` : ''}${charts(d.charts.sft)}
<h2 id="retrieval">Retrieval</h2>
${d.retrieval.note ? `<p class="muted">${esc(d.retrieval.note)}</p>` : ''}${d.retrieval.test ? retrievalTable(d.retrieval.test, 'Test split') : ''}${d.retrieval.all ? retrievalTable(d.retrieval.all, 'All questions') : ''}${charts(d.charts.retrieval)}
${d.after ? `<h2 id="changes">Best and worst changes (${esc(d.primary)})</h2>
<h3>Largest gains</h3>${best.length ? best.map((q) => exampleCard(q, d.primary)).join('') : '<p class="muted">No question improved.</p>'}
<h3>Largest losses</h3>${worst.length ? worst.map((q) => exampleCard(q, d.primary)).join('') : '<p class="muted">No question got worse.</p>'}` : ''}
<h2 id="questions">Every test question${d.after ? `, by change in ${esc(d.primary)} (best first)` : ''}</h2>
${questionsTable(d)}
<h2 id="heatmaps">POV heatmaps</h2>
${heatmaps(d)}
<h2 id="preference">Pairwise preference (seed 004)</h2>
${preference(d)}
</main></body></html>
`;
}
