import path from 'node:path';
import { writeFileAtomic } from '@ragrpo/contracts';

export interface Metric { value: number; unit: string; note?: string }
export type Metrics = Record<string, Metric>;

/** Prints a benchmark table and writes artifacts/bench/<suite>.json ({"name": {"value", "unit"}}). */
export async function reportSuite(suite: string, metrics: Metrics, root = process.cwd()): Promise<string> {
  const rows = Object.entries(metrics).map(([name, m]) => [name, formatValue(m.value), m.unit, m.note ?? '']);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...[['metric', 'value', 'unit', 'note'], ...rows].map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 1 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(line(['metric', 'value', 'unit', 'note']));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  const file = path.join(root, 'artifacts', 'bench', `${suite}.json`);
  const json = Object.fromEntries(Object.entries(metrics).map(([k, m]) => [k, { value: m.value, unit: m.unit }]));
  await writeFileAtomic(file, JSON.stringify(json, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(root, file)}`);
  return file;
}

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(3);
}

/** Median wall time of `runs` calls after one warm-up. */
export async function timeIt(fn: () => unknown | Promise<unknown>, runs = 5): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
