import type { Table } from 'apache-arrow';
import { lineChartSpec, renderSvg, type Point } from './charts.ts';
import type { Chart } from './html.ts';

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Points of `columns` (name -> series label) over the `step` column, skipping nulls. */
function series(table: Table, columns: Record<string, string>, x = 'step'): Point[] {
  const steps = table.getChild(x);
  if (!steps) return [];
  const out: Point[] = [];
  for (const [col, label] of Object.entries(columns)) {
    const c = table.getChild(col);
    if (!c) continue;
    for (let i = 0; i < table.numRows; i++) {
      const y = c.get(i);
      const s = steps.get(i);
      if (finite(y) && finite(s)) out.push({ x: s, y, series: label });
    }
  }
  return out;
}

async function chart(name: string, title: string, points: Point[], o: { yTitle?: string; subtitle?: string } = {}): Promise<Chart | null> {
  if (points.length === 0) return null;
  return { name, title, svg: await renderSvg(lineChartSpec(title, points, o)) };
}

/** grpo-train's metrics.arrow as charts: reward per reward, KL, clip ratios, entropy, completion lengths (TRL's names). */
export async function trainingCharts(metrics: Table): Promise<{ charts: Chart[]; rewards: string[] }> {
  let rewards: string[] = [];
  try { rewards = JSON.parse(metrics.schema.metadata.get('ragrpo.rewards') ?? '[]'); } catch { rewards = []; }
  if (rewards.length === 0) {
    rewards = metrics.schema.fields.map((f) => /^rewards\/(.+)\/mean$/.exec(f.name)?.[1]).filter((n): n is string => !!n);
  }
  const rewardCols: Record<string, string> = { reward: 'reward (weighted total)' };
  for (const r of rewards) rewardCols[`rewards/${r}/mean`] = r;
  const list = await Promise.all([
    chart('reward', 'Reward per step', series(metrics, rewardCols), { subtitle: 'mean over the step\'s completions, per reward function' }),
    chart('kl', 'KL to the reference model', series(metrics, { kl: 'kl' }), { subtitle: 'k3 estimator; absent when beta = 0' }),
    chart('clip_ratio', 'Clip ratio', series(metrics, { 'clip_ratio/low_mean': 'low (mean)', 'clip_ratio/high_mean': 'high (mean)', 'clip_ratio/region_mean': 'region (mean)' })),
    chart('entropy', 'Entropy', series(metrics, { entropy: 'entropy' }), { subtitle: 'mean per-token entropy of the sampled completions' }),
    chart('completion_length', 'Completion length', series(metrics, { 'completions/mean_length': 'mean', 'completions/min_length': 'min', 'completions/max_length': 'max' }), { yTitle: 'tokens' }),
  ]);
  return { charts: list.filter((c): c is Chart => c !== null), rewards };
}

/** The sft stage's loss.arrow (contract sft_loss): train loss per phase, and held-out loss where evaluated. */
export async function sftCharts(loss: Table): Promise<Chart[]> {
  const phase = loss.getChild('phase');
  const points: Point[] = [];
  for (const col of ['loss', 'eval_loss']) {
    const c = loss.getChild(col);
    const step = loss.getChild('step');
    if (!c || !step) continue;
    for (let i = 0; i < loss.numRows; i++) {
      const y = c.get(i);
      const x = step.get(i);
      if (finite(y) && finite(x)) points.push({ x, y, series: `${phase ? String(phase.get(i)) : 'sft'} ${col === 'loss' ? 'train' : 'held-out'}` });
    }
  }
  const c = await chart('sft_loss', 'SFT loss', points, { yTitle: 'loss', subtitle: 'token-mean cross-entropy per optimizer step, per phase' });
  return c ? [c] : [];
}
