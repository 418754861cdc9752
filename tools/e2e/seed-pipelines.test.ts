/**
 * One pipeline per seed (pipelines/*.yaml), each run end to end through the stage commands at a test's
 * size (fewer training steps; the settings that make each seed what it is are left as shipped), checking
 * what that seed's user looks for in its outputs. wine-grpo needs a model no wheel carries: offline, its
 * first stage stops at once naming the folder. The default pipeline has its own tests (learning-stages,
 * pipeline-cache) and wine-smollm2 its own (smollm2-pipeline).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, describe, expect, it } from 'vitest';
import { Completions, Prompts, Ranked, Rewards, readTable, tableRows } from '@ragrpo/contracts';
import { loadPipeline } from '@ragrpo/config';
import { expectOneError, root, runShippedPipeline, runStage } from './stage-cli.ts';
import { POVS, QUESTIONS } from '../datasets/sexy-rag-sheets.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ragrpo-seeds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const shared = path.resolve(root, '..', 'shared', 'datasets');
const SHORT_SFT = { sft: { pretrain: { max_steps: 8 }, finetune: { num_train_epochs: 1 } } };
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe('pipelines/sexy-rag.yaml (seed 002)', () => {
  it('reads the text folder and both sheets, re-ranks the top 10 by POV score with heatmaps, and writes the results to XLSX', async () => {
    const run = runShippedPipeline('sexy-rag', path.join(tmp, 'sexy-rag'), SHORT_SFT);
    expect(run.runs.ingest.stderr).toContain(`${QUESTIONS.length} questions`);
    expect(run.runs.ingest.stderr).toContain(`${POVS.length} POVs`);
    const ranked = tableRows<{ question_id: string; context_rank: number; pov_rank: number; in_context: boolean }>(await readTable(run.out('rank', 'ranked.arrow'), Ranked));
    const perQuestion = new Map<string, typeof ranked>();
    for (const r of ranked) perQuestion.set(r.question_id, [...(perQuestion.get(r.question_id) ?? []), r]);
    expect(perQuestion.size).toBe(QUESTIONS.length);
    expect(Math.max(...[...perQuestion.values()].map((rows) => rows.length))).toBe(10);    // the seed's k = 10
    // pov_weight 1: the context order is the POV order, and the top 3 are the context.
    for (const rows of perQuestion.values()) {
      expect(rows.every((r) => r.context_rank === r.pov_rank)).toBe(true);
      expect(rows.filter((r) => r.in_context).map((r) => r.context_rank)).toEqual([1, 2, 3].slice(0, Math.min(3, rows.length)));
    }
    expect(readdirSync(run.out('rank', 'heatmaps')).filter((f) => f.endsWith('.svg'))).toHaveLength(QUESTIONS.length);
    const prompts = tableRows<{ template: string; prompt: string }>(await readTable(run.out('prompts', 'prompts.arrow'), Prompts));
    expect(prompts[0].template).toBe('alpaca');
    expect(prompts[0].prompt).toContain('### Instruction:');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(run.out('evaluate', 'results.xlsx'));
    const results = wb.getWorksheet('results')!;
    const questions = new Set(QUESTIONS.map(([q]) => q));
    expect(results.rowCount - 1).toBe(json(run.out('ingest', 'report.json')).questions.test);
    for (let r = 2; r <= results.rowCount; r++) expect(questions.has(String(results.getRow(r).getCell(2).value))).toBe(true);
    expect(wb.getWorksheet('context')!.rowCount).toBeGreaterThan(results.rowCount);
  }, 300_000);
});

describe.skipIf(!existsSync(path.join(shared, 'deepseek-r1-paper', 'DeepSeek_R1.pdf')))('pipelines/r1-pdf.yaml (seed 003)', () => {
  it('splits the paper 1000/50, retrieves 5 chunks in retrieval order, and answers under both of the seed\'s prompts', async () => {
    const run = runShippedPipeline('r1-pdf', path.join(tmp, 'r1-pdf'), { ...SHORT_SFT, generate: { max_completion_length: 8 } });
    const ranked = tableRows<{ question_id: string; context_rank: number; similarity_rank: number; text: string }>(await readTable(run.out('rank', 'ranked.arrow'), Ranked));
    expect(ranked.every((r) => r.context_rank === r.similarity_rank)).toBe(true);  // no POVs: pov_weight 0
    // BM25 returns only chunks sharing a term: at most k = 5, and the paragraph defining GRPO first.
    const counts = new Map<string, number>();
    for (const r of ranked) counts.set(r.question_id, (counts.get(r.question_id) ?? 0) + 1);
    expect(Math.max(...counts.values())).toBe(5);
    const grpo = ranked.filter((r) => r.question_id === 'grpo').sort((a, b) => a.context_rank - b.context_rank);
    expect(grpo[0].text.replace(/\s+/g, ' ')).toContain('Group Relative Policy Optimization (GRPO) (Shao et al., 2024), which foregoes the critic model');
    expect(Math.max(...ranked.map((r) => r.text.length))).toBeLessThanOrEqual(1000);
    const templates = new Set(tableRows<{ template: string }>(await readTable(run.out('prompts', 'prompts.arrow'), Prompts)).map((p) => p.template));
    expect([...templates].sort()).toEqual(['context_only', 'score_documents']);
    const completions = tableRows<{ template: string; reasoning: string | null }>(await readTable(run.out('generate', 'completions.arrow'), Completions));
    expect(new Set(completions.map((c) => c.template))).toEqual(templates);
    expect(completions.every((c) => 'reasoning' in c)).toBe(true);
    expect(json(run.out('evaluate', 'summary.json')).primary_reward).toBe('token_f1');
  }, 300_000);
});

describe('pipelines/tourism-de.yaml (seed 001)', () => {
  it('trains GRPO on German questions with the TF-IDF (German stop words) and sentiment-match rewards', async () => {
    const run = runShippedPipeline('tourism-de', path.join(tmp, 'tourism-de'), { ...SHORT_SFT, grpo: { max_steps: 2, save_steps: 1 } });
    const rewards = await readTable(run.out('reward', 'rewards.arrow'), Rewards);
    expect(rewards.schema.fields.map((f) => f.name)).toEqual(expect.arrayContaining(['reward_tfidf', 'reward_sentiment']));
    const spec = json(run.out('reward', 'reward_spec.json'));
    expect(spec.options).toMatchObject({ tfidf: { language: 'german' }, sentiment: { language: 'german' } });
    // sentiment match is 0 or 1 per completion; tfidf a cosine in [0, 1].
    for (const r of tableRows<{ reward_tfidf: number; reward_sentiment: number }>(rewards)) {
      expect([0, 1]).toContain(r.reward_sentiment);
      expect(r.reward_tfidf).toBeGreaterThanOrEqual(0);
      expect(r.reward_tfidf).toBeLessThanOrEqual(1 + 1e-9);
    }
    expect(existsSync(run.out('grpo-train', 'metrics.arrow'))).toBe(true);
    expect(json(run.out('evaluate', 'summary.json')).primary_reward).toBe('tfidf');
  }, 300_000);
});

describe('pipelines/arena-preference.yaml (seed 004)', () => {
  it('predicts each pair with the tie band and softmax over two replicas and writes the submission with log loss', () => {
    const run = runShippedPipeline('arena-preference', path.join(tmp, 'arena-preference'));
    const pairs = readFileSync(path.join(root, 'datasets', 'preference-pairs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const lines = readFileSync(run.out('evaluate', 'submission.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id,winner_model_a,winner_model_b,winner_tie');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(pairs.map((p) => p.id));
    for (const l of lines.slice(1)) {
      const [a, b, t] = l.split(',').slice(1).map(Number);
      expect(a + b + t).toBeCloseTo(1, 6);
    }
    const summary = json(run.out('evaluate', 'summary.json')).preference;
    expect(summary).toMatchObject({ pairs: pairs.length, labelled: pairs.length, errors: 0, tie_threshold: 0.08, max_chars: 7200, replicas: 2 });
    expect(summary.metrics.log_loss).toBeGreaterThan(0);
    expect(summary.metrics.accuracy).toBeGreaterThan(0.5);
  }, 300_000);
});

describe('pipelines/wine-grpo.yaml (seed 000)', () => {
  it('is seed 000: MiniLM retrieval, a Qwen LoRA policy, groups of greedy + temperatures + templates, the LLM judge', () => {
    const p = loadPipeline(path.join(root, 'pipelines', 'wine-grpo.yaml')).config;
    expect(p.embed?.dense?.model).toBe('models/all-minilm-l6-v2');
    expect(p.policy).toMatchObject({ model: 'Qwen/Qwen2.5-0.5B-Instruct', trainable: 'lora' });
    expect(p.generate).toMatchObject({ greedy_reference: true, temperatures: [0.3, 0.7], template_variants: ['context_only', 'alpaca'] });
    expect(p.reward?.reward_funcs).toEqual(['judge']);
    expect(p.evaluate?.primary_reward).toBe('judge');
  });

  it.skipIf(existsSync(path.join(root, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct')))('offline, the first stage stops at once naming the policy folder and what to set', () => {
    const t0 = performance.now();
    const artifacts = path.join(tmp, 'wine-grpo-artifacts');
    const line = expectOneError(runStage('ingest', path.join(root, 'pipelines', 'wine-grpo.yaml'), artifacts), 'ingest');
    const qwen = path.join(root, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct');
    // The policy folder is named first, or after the embedder's when models/all-minilm-l6-v2 was never fetched.
    if (existsSync(path.join(root, 'models', 'all-minilm-l6-v2'))) {
      expect(line).toContain(`policy.model 'Qwen/Qwen2.5-0.5B-Instruct' is not on this machine (nothing at ${qwen})`);
      expect(line).toContain('set policy.allow_remote: true with network access');
    } else {
      expect(line).toContain(`embed.dense.model 'models/all-minilm-l6-v2' is not on this machine`);
      expect(line).toContain(`also missing: policy.model (${qwen})`);
    }
    expect(line).toMatch(/Checked before any stage runs$/);
    expect(existsSync(path.join(artifacts, 'wine-grpo'))).toBe(false);
    expect((performance.now() - t0) / 1000).toBeLessThan(30);
  });
});
