// `npm run bench -- learning`: the default pipeline (pipelines/pipeline.yaml) end to end, as a user
// runs it, from an empty cache: a throw-away copy of the file (its own project, so its own artifacts
// folder) and a private Nx cache folder, both removed afterwards. Reports the whole `nx run
// <copy>:train` wall time and a second, fully cached one; each stage's wall time and peak RSS (its
// process, seen by polling /proc while Nx runs it); the learning figure from evaluate/summary.json
// (before/after means of the primary reward with their 95 % intervals, the paired difference, its
// interval and the sign test); and tokens/s of sampling (generate, grpo-train) and training (sft,
// grpo-train). Targets (reported, and the exit status is 1 when one fails): the cold run under 15
// minutes, the cached run under 5 s, the difference's interval above zero. The load average is
// recorded: on the shared 2-core host the wall times move with it.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import type { Metrics } from './report.ts';

const root = path.resolve(import.meta.dirname, '../..');
const log = (m: string) => console.error(`[bench learning] ${m}`);
const STAGES = ['ingest', 'embed', 'index', 'rank', 'policy', 'prompts', 'sft', 'generate', 'reward', 'grpo-train', 'export-trl', 'evaluate'];

interface StageSeen { first: number; last: number; peakRssKb: number }

/** Every process below `pid` (by scanning /proc's parent links), with its command line and resident set. */
function descendants(pid: number): { pid: number; cmd: string; rssKb: number }[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone meanwhile */ }
  }
  const below = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [p, pp] of parent) if (!below.has(p) && below.has(pp)) { below.add(p); grew = true; }
  }
  const out: { pid: number; cmd: string; rssKb: number }[] = [];
  for (const p of below) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      out.push({ pid: p, cmd, rssKb: rss ? Number(rss[1]) : 0 });
    } catch { /* gone meanwhile */ }
  }
  return out;
}

/** `npx nx run <project>:train`, timed, with every stage process's first/last sighting and peak RSS. */
async function nxTrain(project: string, env: Record<string, string>): Promise<{ ms: number; output: string; stages: Map<string, StageSeen>; load: number[] }> {
  const t0 = performance.now();
  const child = spawn('npx', ['nx', 'run', `${project}:train`, '--outputStyle=static'], {
    cwd: root, env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (b) => { output += b; });
  child.stderr.on('data', (b) => { output += b; });
  const stages = new Map<string, StageSeen>();
  const load = [os.loadavg()[0]];
  const poll = () => {
    const now = performance.now() - t0;
    if (child.pid === undefined) return;
    for (const p of descendants(child.pid)) {
      const m = /packages\/([\w-]+)\/src\/cli\.ts/.exec(p.cmd);
      if (!m) continue;
      const s = stages.get(m[1]) ?? { first: now, last: now, peakRssKb: 0 };
      s.last = now;
      s.peakRssKb = Math.max(s.peakRssKb, p.rssKb); // one process: the node that runs the stage
      stages.set(m[1], s);
    }
  };
  const timer = setInterval(poll, 250);
  const loadTimer = setInterval(() => load.push(os.loadavg()[0]), 15_000);
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  clearInterval(loadTimer);
  load.push(os.loadavg()[0]);
  const ms = performance.now() - t0;
  if (status !== 0) throw new Error(`npx nx run ${project}:train failed (exit ${status}):\n${output.slice(-3000)}`);
  return { ms, output, stages, load };
}

function readJson(file: string): any {
  return JSON.parse(readFileSync(file, 'utf8'));
}

export async function learningSuite(): Promise<Metrics> {
  const source = path.join(root, 'pipelines', 'pipeline.yaml');
  const csv = path.resolve(root, '..', 'shared', 'datasets', 'wine-reviews', 'winemag-data-130k-v2.sample.csv');
  for (const f of [source, csv, path.join(root, 'datasets', 'wine-qa.jsonl')]) {
    if (!existsSync(f)) throw new Error(`${f}: not found; the learning benchmark runs the default pipeline on the wine sample (../shared/datasets) and datasets/wine-qa.jsonl`);
  }
  const name = `bench-learning-${process.pid}`;
  const file = path.join(root, 'pipelines', `${name}.yaml`);
  const artifacts = path.join(root, 'artifacts', name);
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'nx-bench-learning-'));
  const env = { NX_CACHE_DIRECTORY: cacheDir };
  const metrics: Metrics = {};
  const put = (k: string, value: number, unit: string, note?: string) => { metrics[k] = { value, unit, ...(note ? { note } : {}) }; };
  try {
    copyFileSync(source, file);
    log(`nx run ${name}:train from an empty cache (several minutes; load average ${os.loadavg()[0].toFixed(1)})`);
    const cold = await nxTrain(name, env);
    log(`cold run ${(cold.ms / 1000).toFixed(0)} s; again, from the cache`);
    const cached = await nxTrain(name, env);
    const hits = /Cache:\s+(\d+)\/(\d+) hit/.exec(cached.output);

    put('train.cold_wall_s', cold.ms / 1000, 's', 'npx nx run <pipeline>:train, empty Nx cache and artifacts');
    put('train.cached_wall_s', cached.ms / 1000, 's', hits ? `${hits[1]}/${hits[2]} tasks from the cache` : undefined);
    for (const stage of STAGES) {
      const s = cold.stages.get(stage);
      if (!s) continue;
      put(`stage.${stage}.wall_s`, (s.last - s.first) / 1000, 's', 'process lifetime, polled every 0.25 s (tsx start included)');
    }
    for (const stage of STAGES) {
      const s = cold.stages.get(stage);
      if (s) put(`stage.${stage}.peak_rss_mb`, s.peakRssKb / 1024, 'MB');
    }
    put('peak_rss_mb', Math.max(...[...cold.stages.values()].map((s) => s.peakRssKb)) / 1024, 'MB', 'the largest stage process');

    const a = (stage: string, f: string) => path.join(artifacts, stage, f);
    const summary = readJson(a('evaluate', 'summary.json'));
    const primary: string = summary.primary_reward;
    const r = summary.rewards[primary];
    const samples = summary.samples ?? 1;
    put(`eval.${primary}.before`, r.before.mean, '', `sft policy, ${r.before.n} test questions x ${samples} answer(s), 95 % [${r.before.ci_low.toFixed(3)}, ${r.before.ci_high.toFixed(3)}]`);
    put(`eval.${primary}.after`, r.after.mean, '', `grpo policy, 95 % [${r.after.ci_low.toFixed(3)}, ${r.after.ci_high.toFixed(3)}]`);
    put(`eval.${primary}.difference`, r.difference.mean, '', `paired, 95 % [${r.difference.ci_low.toFixed(3)}, ${r.difference.ci_high.toFixed(3)}]`);
    put(`eval.${primary}.difference_ci_low`, r.difference.ci_low, '');
    put(`eval.${primary}.difference_ci_high`, r.difference.ci_high, '');
    put(`eval.${primary}.sign_test_p`, r.difference.p_value, '', `${r.difference.positive} up, ${r.difference.negative} down, ${r.difference.ties} ties`);

    const sft = readJson(a('sft', 'report.json'));
    if (sft.pretrain) put('sft.pretrain.tokens_per_s', sft.pretrain.tokens_per_second, 'tokens/s', 'training');
    if (sft.finetune) put('sft.finetune.tokens_per_s', sft.finetune.tokens_per_second, 'tokens/s', 'training (prompt tokens included)');
    const gen = readJson(a('generate', 'report.json'));
    put('generate.sampling_tokens_per_s', gen.completion_tokens_per_second, 'tokens/s', `completion tokens, ${gen.questions} questions x ${gen.group_size}`);
    const m = tableFromIPC(readFileSync(a('grpo-train', 'metrics.arrow')));
    const col = (n: string) => {
      const c = m.getChild(n);
      if (!c) throw new Error(`grpo-train/metrics.arrow has no column '${n}'`);
      return Array.from(c.toArray() as ArrayLike<number>, Number);
    };
    const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
    const numTokens = col('num_tokens');
    const trained = numTokens.map((t, i) => t - (i ? numTokens[i - 1] : 0));
    const batch = readJson(a('grpo-train', 'report.json')).plan.optimizerBatch as number;
    const completionTokens = col('completions/mean_length').map((l) => l * batch);
    put('grpo.sampling_tokens_per_s', sum(completionTokens) / sum(col('time/sampling')), 'tokens/s', 'kept completion tokens per second of sampling (dynamic sampling\'s redraws in the time)');
    put('grpo.training_tokens_per_s', sum(trained) / (sum(col('time/forward_backward')) + sum(col('time/optimizer'))), 'tokens/s', 'prompt + completion tokens per second of forward+backward+optimizer');
    put('grpo.step_s', sum(col('step_time')) / m.numRows, 's', `mean of ${m.numRows} steps`);
    const reward = col('reward');
    const head = reward.slice(0, 10);
    const tail = reward.slice(-10);
    put('grpo.reward_first10', sum(head) / head.length, '', 'mean train reward, first 10 steps');
    put('grpo.reward_last10', sum(tail) / tail.length, '', 'mean train reward, last 10 steps');

    put('host.loadavg_1m.start', cold.load[0], '', 'load average when the cold run started (2 = both cores busy)');
    put('host.loadavg_1m.max', Math.max(...cold.load), '', 'highest 1-minute load average seen during the cold run');

    const checks: [string, boolean, string][] = [
      ['target.cold_under_15_min', cold.ms < 15 * 60_000, 'the whole train from an empty cache under 15 minutes'],
      ['target.cached_under_5_s', cached.ms < 5000, 'a second run, all cache hits, under 5 s'],
      ['target.difference_ci_above_zero', r.difference.ci_low > 0, `the ${primary} difference's 95 % interval above zero`],
    ];
    for (const [k, ok, what] of checks) {
      put(k, ok ? 1 : 0, 'met', what);
      if (!ok) { console.error(`[bench learning] FAILED CHECK: ${what}`); process.exitCode = 1; }
    }
    return metrics;
  } finally {
    rmSync(file, { force: true });
    rmSync(artifacts, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
  }
}
