import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Float32, vectorFromArray, type Vector } from 'apache-arrow';
import { downstreamOf, loadPipeline, stageDeclarations, stagesOf } from '@ragrpo/config';
import {
  columnFromValues, Eval, GrpoMetrics, Preferences, Prompts, PreferencePredictions, RetrievalMetrics,
  readTable, tableFromColumns, tableFromRows, tableRows, writeTable,
} from '@ragrpo/contracts';
import { buildScratchModel, createLora, readModelConfig, saveLora } from '@ragrpo/model';
import { copyCase, expectOneError, root, runStage } from './stage-cli.ts';

// The evaluate stage through its command on a small wine pipeline (ingest .. prompts run for real).
// grpo-train is not runnable here yet, so its outputs are fabricated the way it will write them: a
// policy.json (a PolicyRecord over the start model with an `adapter` location), a PEFT adapter
// made with createLora and random B (so the "after" answers differ), and a metrics.arrow of five
// steps; reward_spec.json stands in for the reward stage (generate is not needed by evaluate).
// Then every bad input of issue 12, the report in headless Chromium, and the cache-key check.
const wine = path.resolve(root, '..', 'shared', 'datasets', 'wine-reviews', 'winemag-data-130k-v2.sample.csv');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ragrpo-evaluate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
/** Kept after the run (artifacts/ is git-ignored, CI uploads it): the screenshot and the page it shows. */
const keep = path.join(root, 'artifacts', 'e2e', 'evaluate');

const specificity = path.join(tmp, 'specificity.ts');
const parts = {
  head: `seed: 5
ingest:
  documents:
    - kind: csv
      path: ../shared/datasets/wine-reviews/winemag-data-130k-v2.sample.csv
      template: "{title} ({variety}, {country}, {province}). {description} Points: {points}. Price: {price}. Winery: {winery}."
      id_column: id
      on_bad_row: skip
  questions:
    path: datasets/wine-questions.jsonl
    id_field: id
    reference_field: reference
    gold_field: gold_chunk_ids
    limit: 8
    test_fraction: 0.5
  povs:
    items: [Good value for money, Oak and vanilla, Bright acidity]
  preferences:
    path: datasets/preference-pairs.jsonl
embed:
  sparse: {}
index:
  top_k: 6
rank:
  top_n: 3
  heatmap: { max_questions: 3, png: false }
policy:
  scratch: { vocab_size: 400, num_hidden_layers: 1, hidden_size: 32, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 512, max_training_chars: 60000 }
  max_seq_length: 512
prompts:
  template: chat
  max_prompt_length: 400
`,
  reward: `reward:
  reward_funcs: [token_f1, contains_reference]
`,
  grpo: `grpo:
  max_steps: 5
`,
  evaluate: `evaluate:
  rewards: [token_f1, contains_reference, length, specificity]
  primary_reward: specificity
  options:
    length: { max: 8 }
  custom:
    specificity: { module: ${JSON.stringify(specificity)} }
  max_completion_length: 10
  bootstrap_resamples: 2000
  preference:
    scorer: specificity
    replicas: 2
  report: { max_heatmaps: 1, examples: 2 }
`,
};
const yaml = (over: Partial<typeof parts> = {}) => Object.values({ ...parts, ...over }).join('');

const good = { dir: path.join(tmp, 'good'), pipeline: path.join(tmp, 'good', 'learn.yaml'), artifacts: path.join(tmp, 'good', 'artifacts') };
const out = (s: string, artifacts = good.artifacts) => path.join(artifacts, 'learn', s);
const TEST_QUESTIONS = () => tableRows<{ split: string; is_main: boolean }>(prompts).filter((p) => p.is_main && p.split === 'test').length;
let prompts: Awaited<ReturnType<typeof readTable>>;

/** grpo-train's outputs as it will write them, over the policy stage's model (see the header). */
async function fabricateGrpo(artifacts: string, o: { modelFolder?: string; digest?: string; model?: string } = {}) {
  const dir = out('grpo-train', artifacts);
  mkdirSync(dir, { recursive: true });
  const record = JSON.parse(readFileSync(path.join(out('policy', artifacts), 'policy.json'), 'utf8'));
  const folder = o.modelFolder ?? path.join(out('policy', artifacts), 'model');
  const cfg = readModelConfig(path.join(folder, 'config.json'));
  const lora = createLora(cfg, { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj'] }, 1);
  let s = 12345;
  for (const [name, w] of lora.weights) {
    if (!name.includes('lora_B')) continue;
    for (let i = 0; i < w.data.length; i++) { s = (s * 1103515245 + 12345) % 2 ** 31; w.data[i] = (s / 2 ** 31 - 0.5) * 2; }
  }
  saveLora(path.join(dir, 'adapter'), lora, { baseModel: o.model ?? 'scratch' });
  writeFileSync(path.join(dir, 'policy.json'), JSON.stringify({
    ...record, model: o.model ?? record.model, digest: o.digest ?? record.digest, trainable: 'lora',
    location: { base: 'absolute', path: folder }, adapter: { base: 'artifact', path: 'adapter' },
  }, null, 2));
  const steps = [1, 2, 3, 4, 5];
  const rewards = ['token_f1', 'contains_reference'];
  const columns: Record<string, Vector> = {};
  for (const [name, col] of Object.entries(GrpoMetrics.columns)) {
    columns[name] = columnFromValues(col, steps.map((st) => (name === 'step' || name === 'resampled_groups' ? (name === 'step' ? st : 0) : name === 'kl' ? 0.01 * st : 0.1 + 0.05 * st)));
  }
  rewards.forEach((r, k) => { columns[`rewards/${r}/mean`] = vectorFromArray(steps.map((st) => 0.1 * k + 0.04 * st), new Float32()); });
  await writeTable(path.join(dir, 'metrics.arrow'), GrpoMetrics, tableFromColumns(GrpoMetrics, columns, { 'ragrpo.rewards': JSON.stringify(rewards) }));
}

function fabricateRewardSpec(artifacts: string) {
  mkdirSync(out('reward', artifacts), { recursive: true });
  writeFileSync(path.join(out('reward', artifacts), 'reward_spec.json'), JSON.stringify({
    reward_funcs: ['token_f1', 'contains_reference'], reward_weights: [1, 0.5], options: {}, custom: {}, scale_rewards: 'group', multi_objective_aggregation: 'sum_then_normalize',
  }));
}

/** A case: its own copy of the good run's artifacts (without evaluate's) and a pipeline file of the same name. */
function setup(name: string, text: string) {
  const c = copyCase(tmp, name, 'learn.yaml', text, good.artifacts);
  rmSync(out('evaluate', c.artifacts), { recursive: true, force: true });
  return c;
}

describe.skipIf(!existsSync(wine))('the evaluate stage', () => {
  let run: ReturnType<typeof runStage>;
  beforeAll(async () => {
    writeFileSync(specificity, `// Seed 004's scorer stand-in: a specific answer (numbers: points, price) scores higher.
export default function (batch: { completions: string[] }) {
  return batch.completions.map((c) => (c.match(/\\d+/g) ?? []).length * 0.5 + Math.min(c.length, 400) / 4000);
}
`);
    mkdirSync(good.dir, { recursive: true });
    writeFileSync(good.pipeline, yaml());
    for (const s of ['ingest', 'embed', 'index', 'rank', 'policy', 'prompts']) {
      const r = runStage(s, good.pipeline, good.artifacts);
      if (r.status !== 0) throw new Error(`${s} failed: ${r.stderr}`);
    }
    fabricateRewardSpec(good.artifacts);
    await fabricateGrpo(good.artifacts);
    prompts = await readTable(path.join(out('prompts'), 'prompts.arrow'), Prompts);
    run = runStage('evaluate', good.pipeline, good.artifacts);
    if (run.status !== 0) throw new Error(`evaluate failed: ${run.stderr}`);
  }, 600_000);

  it('answers every test question before and after, with every reward', async () => {
    const n = TEST_QUESTIONS();
    expect(n).toBeGreaterThan(0);
    const table = await readTable(path.join(out('evaluate'), 'eval.arrow'), Eval);
    expect(table.numRows).toBe(2 * n);
    expect(JSON.parse(table.schema.metadata.get('ragrpo.rewards') ?? '')).toEqual(['token_f1', 'contains_reference', 'length', 'specificity']);
    const rows = tableRows<{ policy: string; answer: string; reward_token_f1: number | null; reward_length: number | null }>(table);
    expect(rows.filter((r) => r.policy === 'before')).toHaveLength(n);
    expect(rows.every((r) => typeof r.reward_length === 'number')).toBe(true);
    // the random adapter changes what the model says
    const before = rows.filter((r) => r.policy === 'before').map((r) => r.answer);
    const after = rows.filter((r) => r.policy === 'after').map((r) => r.answer);
    expect(after).not.toEqual(before);
  });

  it('writes summary.json with intervals, the paired difference and the primary reward', () => {
    const s = JSON.parse(readFileSync(path.join(out('evaluate'), 'summary.json'), 'utf8'));
    expect(s.primary_reward).toBe('specificity');
    expect(s.rewards.specificity.difference.mean).not.toBe(0);
    expect(Object.keys(s.rewards)).toEqual(['token_f1', 'contains_reference', 'length', 'specificity']);
    for (const r of Object.values(s.rewards) as Record<string, Record<string, number>>[]) {
      for (const part of ['before', 'after']) expect(Object.keys(r[part])).toEqual(expect.arrayContaining(['mean', 'ci_low', 'ci_high']));
      expect(Object.keys(r.difference)).toEqual(expect.arrayContaining(['mean', 'ci_low', 'ci_high', 'p_value']));
      expect(r.before.ci_low).toBeLessThanOrEqual(r.before.mean);
      expect(r.before.ci_high).toBeGreaterThanOrEqual(r.before.mean);
      expect(r.difference.p_value).toBeGreaterThan(0);
      expect(r.difference.p_value).toBeLessThanOrEqual(1);
    }
    expect(s.evaluation_only_rewards).toEqual(['length', 'specificity']);
    expect(s.trained_rewards).toEqual(['token_f1', 'contains_reference']);
    expect(s.retrieval.test.questions).toBeGreaterThan(0);
    expect(s.preference).toMatchObject({ pairs: 24, labelled: 24, errors: 0, replicas: 2 });
    expect(s.preference.metrics.accuracy).toBeGreaterThan(0.5);
    expect(run.stderr).toContain('preference pairs (2 replicas)');
  });

  it('writes the results as CSV and XLSX, the retrieval table and the submission', async () => {
    const n = TEST_QUESTIONS();
    const csv = readFileSync(path.join(out('evaluate'), 'results.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe('question_id,question,reference,context_order,answer_before,answer_after,token_f1_before,token_f1_after,token_f1_difference,contains_reference_before,contains_reference_after,contains_reference_difference,length_before,length_after,length_difference,specificity_before,specificity_after,specificity_difference');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(path.join(out('evaluate'), 'results.xlsx'));
    expect(wb.worksheets.map((w) => w.name)).toEqual(['results', 'context', 'summary', 'answers', 'retrieval', 'preference']);
    expect(wb.getWorksheet('results')!.rowCount).toBe(n + 1);
    expect(wb.getWorksheet('context')!.getRow(1).values).toEqual(expect.arrayContaining(['doc', 'score', 'pov_rank']));
    const retrieval = await readTable(path.join(out('evaluate'), 'retrieval.arrow'), RetrievalMetrics);
    expect(retrieval.numRows).toBeGreaterThan(0);
    const sub = readFileSync(path.join(out('evaluate'), 'submission.csv'), 'utf8').trim().split('\n');
    expect(sub[0]).toBe('id,winner_model_a,winner_model_b,winner_tie');
    expect(sub).toHaveLength(25);
    const pred = tableRows<{ turns: number; turns_kept: number; replica: number }>(await readTable(path.join(out('evaluate'), 'preference_predictions.arrow'), PreferencePredictions));
    expect(new Set(pred.map((p) => p.replica))).toEqual(new Set([0, 1]));
    expect(pred.some((p) => p.turns_kept === 0)).toBe(true);                     // a first turn over 7,200 characters
    expect(pred.some((p) => p.turns_kept > 0 && p.turns_kept < p.turns)).toBe(true); // later turns dropped
  });

  it('writes report.html that names the evaluation-only reward and the capped heatmaps', () => {
    const html = readFileSync(path.join(out('evaluate'), 'report.html'), 'utf8');
    expect(html).toContain('evaluation only (grpo-train did not know them): length, specificity');
    expect(html).toMatch(/rank drew heatmaps for 3 of the 8 ranked questions \(it draws the first rank.heatmap.max_questions/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(html.match(/<tr id="q-/g)).toHaveLength(TEST_QUESTIONS());
  });

  it('opens in headless Chromium: every chart drawn, no console errors, one row per test question', async () => {
    const chromium = ['chromium', 'chromium-browser'].find((c) => spawnSync(c, ['--version']).status === 0);
    if (!chromium) {
      console.warn('chromium is not installed (.ci/run installs it): skipping the browser check of report.html');
      return;
    }
    mkdirSync(keep, { recursive: true });
    cpSync(path.join(out('evaluate'), 'report.html'), path.join(keep, 'report.html'));
    const page = await inspectPage(chromium, path.join(out('evaluate'), 'report.html'), path.join(keep, 'report.png'));
    expect(page.errors, page.errors.join('\n')).toEqual([]);
    expect(page.charts.length).toBeGreaterThanOrEqual(9); // intervals, differences, 5 training curves, retrieval, preference
    for (const c of page.charts) expect(c.paths, `chart ${c.name} drew nothing`).toBeGreaterThan(0);
    expect(page.rows).toBe(TEST_QUESTIONS());
    expect(page.images).toBeGreaterThan(0);
    expect(page.brokenImages).toBe(0);
    expect(readFileSync(path.join(keep, 'report.png')).subarray(1, 4).toString()).toBe('PNG');
    // The check itself catches a broken page: a console error, an empty chart, a missing image.
    const bad = path.join(tmp, 'bad.html');
    writeFileSync(bad, '<!doctype html><figure class="chart" data-chart="empty"><svg><path d=""></path></svg></figure><img src="missing.png"><script>console.error("boom")</script>');
    const broken = await inspectPage(chromium, bad, path.join(tmp, 'bad.png'));
    expect(broken.errors.some((e) => e.includes('boom'))).toBe(true);
    expect(broken.charts).toEqual([{ name: 'empty', paths: 0 }]);
    expect(broken.brokenImages).toBe(1);
  }, 120_000);

  it('without grpo-train it evaluates the before policy alone and says so (two samples each, the judge among the rewards)', async () => {
    const c = setup('no-grpo', yaml({ grpo: '', evaluate: 'evaluate:\n  rewards: [token_f1, judge]\n  options:\n    judge: { max_new_tokens: 4 }\n  samples: 2\n  temperature: 0.8\n  max_completion_length: 6\n' }));
    const r = runStage('evaluate', c.pipeline, c.artifacts);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('no grpo: section, so there is no trained policy');
    expect(r.stderr).toContain('evaluate.preference');  // preferences were ingested but no scorer is set
    const s = JSON.parse(readFileSync(path.join(out('evaluate', c.artifacts), 'summary.json'), 'utf8'));
    expect(s.rewards.token_f1.after).toBeNull();
    expect(s.rewards.token_f1.difference).toBeNull();
    expect(s.policies.after).toBeNull();
    expect(s.evaluation_only_rewards).toEqual(['judge']);
    expect(s.sampling).toMatchObject({ temperature: 0.8, max_completion_length: 6 });
    const table = await readTable(path.join(out('evaluate', c.artifacts), 'eval.arrow'), Eval);
    expect(table.numRows).toBe(2 * TEST_QUESTIONS());
    expect(tableRows<{ sample_index: number }>(table).map((x) => x.sample_index).slice(0, 4)).toEqual([0, 1, 0, 1]);
    expect(existsSync(path.join(out('evaluate', c.artifacts), 'submission.csv'))).toBe(false);
  });

  it('an adapter from another base model names both models', async () => {
    const c = setup('other-base', yaml());
    const other = path.join(tmp, 'other-base-model');
    await buildScratchModel({ out: other, arch: 'llama', layers: 1, hidden: 48, heads: 2, intermediate: 64, maxPositions: 512, seed: 3, corpus: ['another corpus entirely, for another model'], vocabSize: 300 });
    await fabricateGrpo(c.artifacts, { modelFolder: other, digest: 'f'.repeat(64), model: 'other-base-model' });
    const line = expectOneError(runStage('evaluate', c.pipeline, c.artifacts), 'evaluate');
    expect(line).toContain('was trained on other-base-model');
    expect(line).toContain(other);
    expect(line).toContain('but the policy before training (policy) is scratch');
    expect(existsSync(out('evaluate', c.artifacts))).toBe(false);
  });

  it('a preference set without labels says there is no log loss and writes the submission anyway', async () => {
    const c = setup('unlabelled', yaml());
    const file = path.join(out('ingest', c.artifacts), 'preferences.arrow');
    const rows = tableRows<Record<string, unknown>>(await readTable(file, Preferences)).map((r) => ({ ...r, prompt: Array.from(r.prompt as string[]), response_a: Array.from(r.response_a as string[]), response_b: Array.from(r.response_b as string[]), winner: null }));
    await writeTable(file, Preferences, tableFromRows(Preferences, rows as never));
    const r = runStage('evaluate', c.pipeline, c.artifacts);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('no winner labels, so there is no log loss or accuracy; the submission (24 pairs) is written anyway');
    expect(readFileSync(path.join(out('evaluate', c.artifacts), 'submission.csv'), 'utf8').trim().split('\n')).toHaveLength(25);
    const s = JSON.parse(readFileSync(path.join(out('evaluate', c.artifacts), 'summary.json'), 'utf8'));
    expect(s.preference).toMatchObject({ labelled: 0, metrics: null });
  });

  it('an empty test split says to change test_fraction or add questions', async () => {
    const c = setup('empty-test', yaml());
    const file = path.join(out('prompts', c.artifacts), 'prompts.arrow');
    const rows = tableRows<Record<string, unknown>>(await readTable(file, Prompts)).map((r) => ({
      ...r, split: 'train', prompt_ids: Array.from(r.prompt_ids as number[]), chunk_ids: Array.from(r.chunk_ids as string[]),
    }));
    await writeTable(file, Prompts, tableFromRows(Prompts, rows as never));
    const line = expectOneError(runStage('evaluate', c.pipeline, c.artifacts), 'evaluate');
    expect(line).toContain('the test split is empty (all 8 questions are in the train split)');
    expect(line).toContain('ingest.questions.test_fraction');
    expect(line).toContain('add questions');
  });

  it('an unknown reward, a primary reward not evaluated and a typo in evaluate: are named', () => {
    const a = setup('unknown-reward', yaml({ evaluate: 'evaluate:\n  rewards: [token_f2]\n' }));
    expect(expectOneError(runStage('evaluate', a.pipeline, a.artifacts), 'evaluate')).toContain("evaluate.rewards: unknown reward 'token_f2' (did you mean 'token_f1'?)");
    const b = setup('primary', yaml({ evaluate: 'evaluate:\n  primary_reward: exact_match\n' }));
    expect(expectOneError(runStage('evaluate', b.pipeline, b.artifacts), 'evaluate')).toContain("evaluate.primary_reward: 'exact_match' is not one of the evaluated rewards (token_f1, contains_reference)");
    const text = yaml({ evaluate: 'evaluate:\n  bootstrap_resample: 500\n' });
    const c = setup('typo', text);
    const line = expectOneError(runStage('evaluate', c.pipeline, c.artifacts), 'evaluate');
    expect(line).toContain(`${c.pipeline}:${text.split('\n').indexOf('  bootstrap_resample: 500') + 1}:`);
    expect(line).toContain('bootstrap_resample');
  });

  it('changing only evaluate: changes only evaluate\'s cache key, and nothing reads evaluate', () => {
    const { stageInputs } = createRequire(import.meta.url)(path.join(root, 'packages/nx-plugin/src/stage-inputs.cjs')) as { stageInputs: (f: string, s: string, r: string) => string };
    const a = path.join(tmp, 'cache-a.yaml');
    const b = path.join(tmp, 'cache-b.yaml');
    writeFileSync(a, yaml());
    writeFileSync(b, yaml({ evaluate: parts.evaluate.replace('bootstrap_resamples: 2000', 'bootstrap_resamples: 3000') }));
    const decls = stageDeclarations();
    const present = stagesOf(decls, loadPipeline(a).config);
    expect(present).toEqual(expect.arrayContaining(['grpo-train', 'evaluate']));
    const changed = present.filter((s) => stageInputs(a, s, root) !== stageInputs(b, s, root));
    expect(changed).toEqual(['evaluate']);
    expect(downstreamOf(decls, present, 'evaluate')).toEqual([]);
    expect(readdirSync(path.join(good.artifacts, 'learn')).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

interface PageReport { errors: string[]; charts: { name: string; paths: number }[]; rows: number; images: number; brokenImages: number }

/**
 * Opens a file in headless Chromium and inspects it over the DevTools protocol on a pipe
 * (--remote-debugging-pipe: fds 3 and 4, NUL-separated JSON, so no WebSocket client is needed):
 * console errors and exceptions, non-empty SVG paths per chart, rows of the before/after table,
 * images; then a full-page screenshot. No network: a fresh user-data dir and the flags issue 12 lists.
 */
async function inspectPage(chromium: string, file: string, screenshot: string): Promise<PageReport> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'chromium-profile-'));
  const proc = spawn(chromium, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
    `--user-data-dir=${profile}`, '--remote-debugging-pipe', '--window-size=1280,2000', 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  const input = proc.stdio[3] as NodeJS.WritableStream;
  const output = proc.stdio[4] as NodeJS.ReadableStream;
  let buf = Buffer.alloc(0);
  let id = 0;
  const pending = new Map<number, (m: { result?: Record<string, unknown>; error?: { message: string } }) => void>();
  const errors: string[] = [];
  let loaded: () => void = () => undefined;
  const load = new Promise<void>((r) => { loaded = r; });
  output.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (let i = buf.indexOf(0); i >= 0; i = buf.indexOf(0)) {
      const m = JSON.parse(buf.subarray(0, i).toString('utf8'));
      buf = buf.subarray(i + 1);
      if (m.id !== undefined && pending.has(m.id)) { pending.get(m.id)!(m); pending.delete(m.id); continue; }
      if (m.method === 'Runtime.consoleAPICalled' && ['error', 'assert'].includes(m.params.type)) errors.push(`console.${m.params.type}: ${JSON.stringify(m.params.args.map((a: { value?: unknown }) => a.value))}`);
      if (m.method === 'Runtime.exceptionThrown') errors.push(`exception: ${m.params.exceptionDetails.text} ${m.params.exceptionDetails.exception?.description ?? ''}`);
      if (m.method === 'Log.entryAdded' && m.params.entry.level === 'error') errors.push(`log: ${m.params.entry.text} ${m.params.entry.url ?? ''}`);
      if (m.method === 'Page.loadEventFired') loaded();
    }
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) => new Promise<Record<string, unknown>>((resolve, reject) => {
    const msg = { id: ++id, method, params, ...(sessionId ? { sessionId } : {}) };
    pending.set(msg.id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result ?? {})));
    input.write(JSON.stringify(msg) + '\0');
  });
  try {
    const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true }) as { sessionId: string };
    for (const d of ['Runtime.enable', 'Log.enable', 'Page.enable']) await send(d, {}, sessionId);
    await send('Emulation.setDeviceMetricsOverride', { width: 1280, height: 2000, deviceScaleFactor: 1, mobile: false }, sessionId);
    await send('Page.navigate', { url: `file://${file}` }, sessionId);
    await Promise.race([load, new Promise((_, reject) => setTimeout(() => reject(new Error('report.html did not load in 30 s')), 30_000))]);
    const expression = `JSON.stringify({
      charts: [...document.querySelectorAll('figure.chart')].map((f) => ({ name: f.dataset.chart, paths: [...f.querySelectorAll('svg path')].filter((p) => (p.getAttribute('d') || '').trim().length > 0 && p.getBBox().width + p.getBBox().height > 0).length })),
      rows: document.querySelectorAll('#before-after tbody tr').length,
      images: document.querySelectorAll('img').length,
      brokenImages: [...document.querySelectorAll('img')].filter((i) => !i.complete || i.naturalWidth === 0).length,
    })`;
    const evaluated = await send('Runtime.evaluate', { expression, returnByValue: true }, sessionId) as { result: { value: string } };
    const page = JSON.parse(evaluated.result.value);
    const shot = await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }, sessionId) as { data: string };
    writeFileSync(screenshot, Buffer.from(shot.data, 'base64'));
    return { errors, ...page };
  } finally {
    // Browser.close lets Chromium end its helper processes and finish writing the profile; then the process.
    const exited = new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
    await Promise.race([send('Browser.close').catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (proc.exitCode === null) proc.kill();
    try { rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }); } catch { /* a helper still writing: the OS temp folder keeps it */ }
  }
}
