import ExcelJS from 'exceljs';
import type { QuestionRow } from '../report/html.ts';
import type { RewardComparison } from '../stats/compare-rewards.ts';
import { toCsv } from './csv.ts';

type Cell = string | number | null;

/** One row per test question: question, context order, the answers before and after, and every reward (seed 002's results sheet). */
export function resultRows(questions: QuestionRow[], rewards: string[], hasAfter: boolean): { header: string[]; rows: Cell[][] } {
  const header = ['question_id', 'question', 'reference', 'context_order', 'answer_before', ...(hasAfter ? ['answer_after'] : [])];
  for (const r of rewards) header.push(...(hasAfter ? [`${r}_before`, `${r}_after`, `${r}_difference`] : [`${r}_before`]));
  const rows = questions.map((q) => {
    const order = q.context.filter((c) => c.in_context).map((c) => `#${c.context_rank} ${c.chunk_id} (POV score ${c.pov_score.toFixed(4)}, POV ${c.pov_rank}, ret ${c.similarity_rank})`).join('\n');
    const row: Cell[] = [q.question_id, q.question, q.reference, order, q.before, ...(hasAfter ? [q.after] : [])];
    for (const r of q.rewards) {
      const d = r.before !== null && r.after !== null ? r.after - r.before : null;
      row.push(...(hasAfter ? [r.before, r.after, d] : [r.before]));
    }
    return row;
  });
  return { header, rows };
}

export function resultsCsv(questions: QuestionRow[], rewards: string[], hasAfter: boolean): string {
  const { header, rows } = resultRows(questions, rewards, hasAfter);
  return toCsv(header, rows);
}

export interface WorkbookInput {
  questions: QuestionRow[];
  rewards: string[];
  hasAfter: boolean;
  summary: Record<string, RewardComparison>;
  /** Every answer (eval.arrow) as rows under a header. */
  answers: { header: string[]; rows: Cell[][] };
  retrieval?: { header: string[]; rows: Cell[][] };
  preference?: { header: string[]; rows: Cell[][] };
}

function addSheet(wb: ExcelJS.Workbook, name: string, header: string[], rows: Cell[][], widths: Record<string, number> = {}) {
  const ws = wb.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = header.map((h) => ({ header: h, key: h, width: widths[h] ?? Math.min(Math.max(h.length + 2, 12), 60) }));
  ws.getRow(1).font = { bold: true };
  for (const r of rows) ws.addRow(r.map((v) => (v === null ? undefined : v)));
  const wrap = header.map((h, i) => (widths[h] && widths[h] >= 40 ? i + 1 : 0)).filter(Boolean);
  for (const c of wrap) ws.getColumn(c).alignment = { wrapText: true, vertical: 'top' };
  return ws;
}

/**
 * results.xlsx: `results` (one row per test question, as the CSV), `context` (every retrieved chunk
 * of every test question in POV order with its score: seed 002's doc/score sheet), `summary` (means,
 * intervals, p-values), `answers` (every sample), and `retrieval` / `preference` when present.
 */
export async function resultsWorkbook(w: WorkbookInput): Promise<Uint8Array> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'ragrpo evaluate';
  wb.created = new Date(0);
  wb.modified = new Date(0);
  const { header, rows } = resultRows(w.questions, w.rewards, w.hasAfter);
  addSheet(wb, 'results', header, rows, { question: 50, reference: 40, context_order: 50, answer_before: 60, answer_after: 60 });
  const ctx: Cell[][] = [];
  for (const q of w.questions) {
    for (const c of q.context) ctx.push([q.question_id, q.question, c.context_rank, c.pov_rank, c.similarity_rank, c.chunk_id, c.text, c.pov_score, c.in_context ? 'yes' : 'no', c.gold ? 'yes' : 'no']);
  }
  addSheet(wb, 'context', ['question_id', 'question', 'context_rank', 'pov_rank', 'similarity_rank', 'chunk_id', 'doc', 'score', 'in_context', 'gold'], ctx, { question: 40, doc: 80 });
  const sum: Cell[][] = [];
  for (const [name, c] of Object.entries(w.summary)) {
    sum.push([name, 'before', c.before.mean, c.before.ci_low, c.before.ci_high, c.before.n, null]);
    if (c.after) sum.push([name, 'after', c.after.mean, c.after.ci_low, c.after.ci_high, c.after.n, null]);
    if (c.difference) sum.push([name, 'difference', c.difference.mean, c.difference.ci_low, c.difference.ci_high, c.difference.n, c.difference.p_value]);
  }
  addSheet(wb, 'summary', ['reward', 'policy', 'mean', 'ci_low', 'ci_high', 'questions', 'p_value'], sum.map((r) => r.map((v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))));
  addSheet(wb, 'answers', w.answers.header, w.answers.rows, { question: 40, answer: 60, reasoning: 40 });
  if (w.retrieval) addSheet(wb, 'retrieval', w.retrieval.header, w.retrieval.rows);
  if (w.preference) addSheet(wb, 'preference', w.preference.header, w.preference.rows);
  return new Uint8Array(await wb.xlsx.writeBuffer());
}
