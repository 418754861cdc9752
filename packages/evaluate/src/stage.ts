import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvaluateConfig, StageContext } from '@ragrpo/config';
import { columnFromValues, Eval, exists, tableFromColumns, tableRows } from '@ragrpo/contracts';
import { loadPolicy, type SamplingSettings } from '@ragrpo/generate';
import type { RewardSpec } from '@ragrpo/reward';
import { createProgress } from '@ragrpo/progress';
import { Float32, vectorFromArray, type Table, type Vector } from 'apache-arrow';
import { answerQuestions, type Answer, type EvalPrompt } from './answers/answer-questions.ts';
import { adapterLoadError, checkComparable, policyRef, type PolicyRef } from './answers/policies.ts';
import { evaluationJudge, judgeSource } from './answers/judge.ts';
import { evaluationRewards, scorerSpec } from './answers/reward-set.ts';
import { evaluationFunctions, scoreAnswers } from './answers/score-answers.ts';
import { scorePreferences, type PreferenceResult, type PreferenceRow } from './preference/score-preferences.ts';
import type { ScorerConfig } from './preference/scorer.ts';
import { barChartSpec, differenceChartSpec, intervalChartSpec, renderSvg, type IntervalPoint } from './report/charts.ts';
import { safeFileName } from './report/file-names.ts';
import { renderReport, type Chart, type QuestionRow } from './report/html.ts';
import { sftCharts, trainingCharts } from './report/training-charts.ts';
import { resultsCsv, resultsWorkbook } from './results/results-table.ts';
import {
  questionRetrieval, retrievalTable, summarizeRetrieval, type QuestionGold, type RankedRow, type RetrievedRow,
} from './retrieval/retrieval-metrics.ts';
import { compareReward, meanOrNull, formatInterval, type RewardComparison } from './stats/compare-rewards.ts';
import { isExactBootstrap } from './stats/bootstrap.ts';

interface PromptRow extends EvalPrompt { is_main: boolean }
interface QuestionRowIn extends QuestionGold { question: string; reference: string | null }
interface RankedFull extends RankedRow { pov_score: number; text: string }
const contextRank = (r: RankedFull) => r.context_rank ?? r.pov_rank;

/** The sampling settings of the section (TRL names); temperature 0 (greedy) with one sample unless set. */
export function samplingOf(s: EvaluateConfig): SamplingSettings {
  return {
    temperature: s.temperature ?? (s.samples === 1 ? 0 : 1),
    top_p: s.top_p, top_k: s.top_k, min_p: s.min_p, repetition_penalty: s.repetition_penalty,
    max_completion_length: s.max_completion_length, stop: s.stop,
  };
}

async function sampleWith(ref: PolicyRef, ctx: StageContext<EvaluateConfig>, test: EvalPrompt[], sampling: SamplingSettings): Promise<Answer[][]> {
  const s = ctx.settings;
  let loaded: Awaited<ReturnType<typeof loadPolicy>>;
  try {
    loaded = await loadPolicy(ref.recordFile, ctx.root, ref.adapter ? { adapter: ref.adapter } : {});
  } catch (err) {
    throw adapterLoadError(ref, err as Error);
  }
  try {
    const longest = Math.max(...test.map((p) => p.prompt_ids.length));
    if (longest + sampling.max_completion_length > ref.record.max_seq_length) {
      throw new Error(`evaluate.max_completion_length ${sampling.max_completion_length} + the longest test prompt (${longest} tokens) exceeds the ${ref.label} policy's max_seq_length ${ref.record.max_seq_length}; lower evaluate.max_completion_length or prompts.max_prompt_length`);
    }
    const progress = createProgress({ stage: 'evaluate', task: `answer (${ref.label})`, total: test.length, unit: 'questions' });
    const answers = await answerQuestions(loaded.policy, loaded.tokenizer, test, {
      ...sampling, samples: s.samples, seed: ctx.seed, promptsPerBatch: s.prompts_per_batch, onBatch: (n) => progress.tick(n),
    });
    progress.done();
    return answers;
  } finally {
    await loaded.policy.release();
  }
}

/** A path as the report shows it: relative to the workspace when inside it, else absolute. */
const shown = (p: string, root: string) => { const r = path.relative(root, p); return r.startsWith('..') || path.isAbsolute(r) ? p : r; };
const describe = (ref: PolicyRef, root: string) => `${ref.record.model} from ${ref.stage}${ref.adapter ? ` with the adapter ${shown(ref.adapter, root)}` : ''} (${ref.record.architecture}, ${ref.record.num_parameters.toLocaleString('en-US')} parameters)`;

/** The eval.arrow table: every answer of both policies with every reward. */
function evalTable(test: EvalPrompt[], byPolicy: { label: string; answers: Answer[][]; values: (number | null)[][][] }[], rewards: string[]): { table: Table; rows: (string | number | null)[][]; header: string[] } {
  const rows: Record<string, unknown>[] = [];
  for (const p of byPolicy) {
    test.forEach((q, qi) => p.answers[qi].forEach((a, k) => {
      const r: Record<string, unknown> = {
        question_id: q.question_id, policy: p.label, sample_index: k, question: q.question, reference: q.reference,
        answer: a.answer, reasoning: a.reasoning, completion_tokens: a.ids.length, finish_reason: a.finishReason,
      };
      rewards.forEach((name, ri) => { r[`reward_${name}`] = p.values[ri][qi][k]; });
      rows.push(r);
    }));
  }
  const columns: Record<string, Vector> = {};
  for (const [name, col] of Object.entries(Eval.columns)) columns[name] = columnFromValues(col, rows.map((r) => r[name] ?? null));
  for (const name of rewards) columns[`reward_${name}`] = vectorFromArray(rows.map((r) => r[`reward_${name}`] as number | null), new Float32());
  const header = [...Object.keys(Eval.columns), ...rewards.map((n) => `reward_${n}`)];
  return {
    table: tableFromColumns(Eval, columns, { 'ragrpo.rewards': JSON.stringify(rewards) }),
    rows: rows.map((r) => header.map((h) => (r[h] ?? null) as string | number | null)),
    header,
  };
}

/** The evaluate stage: see README.md. */
export async function evaluateStage(ctx: StageContext<EvaluateConfig>): Promise<string> {
  const s = ctx.settings;
  const notes: string[] = [];
  const note = (text: string, warn = true) => { notes.push(text); if (warn) ctx.log.warn(text); else ctx.log.info(text); };

  // The test split.
  const prompts = tableRows<PromptRow>(await ctx.readInput('prompts'));
  const questions = tableRows<QuestionRowIn>(await ctx.readInput('questions'));
  let test = prompts.filter((p) => p.is_main && p.split === 'test');
  if (test.length === 0) {
    const n = new Set(prompts.filter((p) => p.is_main).map((p) => p.question_id)).size;
    throw new Error(`evaluate: the test split is empty (all ${n} questions are in the train split), so there is nothing to evaluate; raise ingest.questions.test_fraction (the share held out for evaluation) or add questions`);
  }
  if (s.limit > 0 && test.length > s.limit) test = test.slice(0, s.limit);

  // Rewards: the reward stage's, and any evaluation-only ones.
  const specFile = ctx.inputPath('reward_spec');
  const trainSpec = specFile && (await exists(specFile)) ? (JSON.parse(await readFile(specFile, 'utf8')) as RewardSpec) : null;
  const set = evaluationRewards(s, trainSpec, ctx.resolve);
  if (set.evaluationOnly.length) {
    note(`${trainSpec ? 'Rewards grpo-train did not know (evaluation only)' : 'No reward stage in this pipeline, so every reward is evaluation only'}: ${set.evaluationOnly.join(', ')}`, false);
  }

  // The policies.
  const beforeFile = ctx.inputPath('before');
  if (!beforeFile) throw new Error(`${ctx.pipeline.file}: evaluate needs the policy before training: add a policy: section`);
  const before = await policyRef('before', beforeFile, ctx.root);
  const afterFile = ctx.inputPath('after');
  const after = afterFile ? await policyRef('after', afterFile, ctx.root) : null;
  if (!after) note('The pipeline has no grpo: section, so there is no trained policy: evaluate answers with the policy before training only and compares nothing.');
  else checkComparable(before, after);
  if (before.stage === 'policy') note('The "before" policy is the start policy (no sft: section): there was no warm-up.', false);

  // Rewards are created (options checked) before any model runs: a judge on an endpoint too (that loads
  // nothing; a missing api_key_env fails here), a judge on a local model folder once the answers are in.
  // judge: evaluate.options.judge's endpoint or model (over reward_spec.json's), else the before policy's folder.
  const judge = set.spec.reward_funcs.includes('judge') ? evaluationJudge(set.spec, s, ctx.resolve, before.folder) : null;
  const early = judge?.options.endpoint !== undefined;
  const checkNow = early ? set.spec : { ...set.spec, reward_funcs: set.spec.reward_funcs.filter((n) => n !== 'judge') };
  await (await evaluationFunctions(checkNow, judge, ctx.root)).release();
  if (judge && early) note(`The judge scores through ${judgeSource(judge)}.`, false);

  // Answers, with the same sampling settings and seeds for both policies.
  const sampling = samplingOf(s);
  const beforeAnswers = await sampleWith(before, ctx, test, sampling);
  const afterAnswers = after ? await sampleWith(after, ctx, test, sampling) : null;

  let values: { before: (number | null)[][][]; after: (number | null)[][][] | null };
  const scoring = await evaluationFunctions(set.spec, judge, ctx.root);
  try {
    const { functions } = scoring;
    const progress = createProgress({ stage: 'evaluate', task: `score (${set.spec.reward_funcs.join(', ')})`, total: after ? 2 : 1, unit: 'policies' });
    const b = await scoreAnswers(functions, test, beforeAnswers);
    progress.tick();
    const a = afterAnswers ? await scoreAnswers(functions, test, afterAnswers) : null;
    if (a) progress.tick();
    progress.done();
    values = { before: b, after: a };
  } finally {
    await scoring.release();
  }

  // Statistics per reward over questions.
  const rewards = set.spec.reward_funcs;
  const perQuestion = (v: (number | null)[][][], ri: number) => v[ri].map(meanOrNull);
  const summary: Record<string, RewardComparison & { evaluation_only: boolean }> = {};
  rewards.forEach((name, ri) => {
    const c = compareReward(name, perQuestion(values.before, ri), values.after ? perQuestion(values.after, ri) : null, {
      resamples: s.bootstrap_resamples, confidence: s.confidence, seed: ctx.seed,
    });
    summary[name] = { ...c, evaluation_only: set.evaluationOnly.includes(name) };
  });
  if (isExactBootstrap(test.length, s.bootstrap_resamples)) {
    note(`Only ${test.length} test questions: the bootstrap intervals enumerate all ${test.length ** test.length} resamples exactly (and are wide).`, false);
  }

  // Retrieval.
  const retrieved = tableRows<RetrievedRow>(await ctx.readInput('retrieved'));
  const ranked = tableRows<RankedFull>(await ctx.readInput('ranked'));
  const main = prompts.filter((p) => p.is_main);
  const perQ = questionRetrieval(questions, retrieved, ranked, main);
  const testIds = new Set(test.map((q) => q.question_id));
  const retrieval = {
    test: summarizeRetrieval(perQ.filter((r) => testIds.has(r.question_id)), s.retrieval_k),
    all: summarizeRetrieval(perQ, s.retrieval_k),
  };
  const retrievalNote = perQ.length === 0 ? 'No question has gold chunks (ingest.questions.gold_field), so there are no retrieval metrics.' : '';

  // Per-question rows for the report and the results files.
  const goldOf = new Map(questions.map((q) => [q.question_id, new Set(Array.from(q.gold_chunk_ids))]));
  const rankedBy = new Map<string, RankedFull[]>();
  for (const r of ranked) { const l = rankedBy.get(r.question_id); if (l) l.push(r); else rankedBy.set(r.question_id, [r]); }
  const primaryIndex = rewards.indexOf(set.primary);
  let rows: QuestionRow[] = test.map((q, qi) => {
    const gold = goldOf.get(q.question_id) ?? new Set<string>();
    const rs = rewards.map((name, ri) => ({ name, before: meanOrNull(values.before[ri][qi]), after: values.after ? meanOrNull(values.after[ri][qi]) : null }));
    const p = rs[primaryIndex];
    return {
      question_id: q.question_id, anchor: `q-${safeFileName(q.question_id)}`, question: q.question, reference: q.reference,
      context: [...(rankedBy.get(q.question_id) ?? [])].sort((a, b) => contextRank(a) - contextRank(b)).map((c) => ({
        chunk_id: c.chunk_id, context_rank: contextRank(c), pov_rank: c.pov_rank, similarity_rank: c.similarity_rank, pov_score: c.pov_score, in_context: c.in_context, text: c.text, gold: gold.has(c.chunk_id),
      })),
      prompt_chunks: Array.from(q.chunk_ids),
      before: beforeAnswers[qi][0]?.answer ?? '', after: afterAnswers ? afterAnswers[qi][0]?.answer ?? '' : null,
      rewards: rs, change: p.before !== null && p.after !== null ? p.after - p.before : null,
    };
  });
  if (after) rows = [...rows].sort((a, b) => (b.change ?? -Infinity) - (a.change ?? -Infinity));

  // Heatmaps from rank: embedded up to report.max_heatmaps, linked after that.
  const finalDir = path.join(path.dirname(ctx.outDir), ctx.stage);
  const heatDir = ctx.inputPath('heatmaps');
  const files = heatDir && (await exists(heatDir)) ? await readdir(heatDir) : [];
  const heatPath = (f: string) => path.join(heatDir ?? '', f);
  const rankedQuestions = new Set(ranked.map((r) => r.question_id)).size;
  const drawn = new Set(files.map((f) => f.replace(/\.(svg|png)$/, '')));
  let embedded = 0;
  for (const row of rows) {
    const base = safeFileName(row.question_id);
    if (!drawn.has(base)) continue;
    const file = files.includes(`${base}.svg`) ? `${base}.svg` : `${base}.png`;
    const full = heatPath(file);
    if (embedded < s.report.max_heatmaps) {
      const data = await readFile(full);
      row.heatmap = { embedded: `data:image/${file.endsWith('.svg') ? 'svg+xml' : 'png'};base64,${data.toString('base64')}` };
      embedded++;
    } else {
      row.heatmap = { link: path.relative(finalDir, full).split(path.sep).join('/') };
    }
  }
  const withMap = rows.filter((r) => r.heatmap).length;
  const heatmapNote = `rank drew heatmaps for ${drawn.size} of the ${rankedQuestions} ranked questions`
    + (drawn.size < rankedQuestions ? ` (it draws the first rank.heatmap.max_questions, 20 by default, and none past that: raise it to draw more)` : '')
    + `; ${withMap} of the ${rows.length} test questions have one, embedded here: ${embedded} (evaluate.report.max_heatmaps: ${s.report.max_heatmaps})`
    + (withMap > embedded ? `, linked: ${withMap - embedded}, to keep this page small.` : '.');
  if (drawn.size < rankedQuestions) note(`Heatmaps were capped: ${heatmapNote}`, false);
  const rankReport = ctx.inputPath('rank_report');
  const rankLink = rankReport && (await exists(rankReport)) ? path.relative(finalDir, rankReport).split(path.sep).join('/') : null;

  // Pairwise preference (seed 004).
  let pref: PreferenceResult | null = null;
  let prefNote = '';
  const prefTable = await ctx.readOptionalInput('preferences');
  if (prefTable && !s.preference) {
    note(`ingest wrote ${prefTable.numRows} preference pairs, but evaluate has no preference: settings; set evaluate.preference.scorer to score them`);
  } else if (!prefTable && s.preference) {
    note('evaluate.preference is set but ingest wrote no preference set (ingest.preferences), so nothing was scored');
  } else if (prefTable && s.preference) {
    const p = s.preference;
    let config: ScorerConfig;
    if (typeof p.scorer === 'string') {
      const spec = scorerSpec(p.scorer, set, s, trainSpec, ctx.resolve);
      config = { kind: 'reward', name: p.scorer, spec, root: ctx.root, ...(p.scorer === 'judge' ? { judge: evaluationJudge(spec, s, ctx.resolve, before.folder) } : {}) };
    } else {
      config = { kind: 'model', folder: ctx.resolve(p.scorer.model), batchSize: p.scorer.batch_size, maxLength: p.scorer.max_length, root: ctx.root };
    }
    const pairs = tableRows<PreferenceRow>(prefTable).map((r) => ({ ...r, prompt: Array.from(r.prompt), response_a: Array.from(r.response_a), response_b: Array.from(r.response_b) }));
    const replicas = Math.min(p.replicas, Math.max(pairs.length, 1));
    const progress = createProgress({ stage: 'evaluate', task: `preference pairs (${replicas} replica${replicas === 1 ? '' : 's'})`, total: pairs.length, unit: 'pairs' });
    try {
      pref = await scorePreferences(pairs, config, { tieThreshold: p.tie_threshold, maxChars: p.max_chars, replicas: p.replicas, batchSize: p.batch_size, onPairs: (n) => progress.tick(n) });
    } catch (err) {
      throw new Error(`evaluate.preference.scorer: ${(err as Error).message}`);
    }
    progress.done();
    if (pref.labelled === 0) {
      prefNote = `The preference set has no winner labels, so there is no log loss or accuracy; the submission (${pref.pairs} pairs) is written anyway.`;
      note(prefNote);
    } else if (pref.labelled < pref.pairs) {
      prefNote = `${pref.pairs - pref.labelled} of ${pref.pairs} pairs have no label: log loss and accuracy are over the ${pref.labelled} labelled ones.`;
      note(prefNote, false);
    }
    if (pref.errors) note(`the preference scorer gave no score for ${pref.errors} pairs (predicted uniform, as seed 004 does): ${pref.errorMessages[0] ?? 'no score returned'}`);
    if (pref.cutInsideTurn || pref.turnsDropped) {
      note(`preference.max_chars ${p.max_chars}: ${pref.turnsDropped} pairs lost later turns, ${pref.cutInsideTurn} had even their first turn cut`, false);
    }
    await ctx.writeOutput('submission', pref.submission);
    await ctx.writeOutput('preference_predictions', pref.table);
  }

  // Charts.
  const pct = Math.round(s.confidence * 100);
  const ivPoints: IntervalPoint[] = [];
  const diffPoints: IntervalPoint[] = [];
  for (const [name, c] of Object.entries(summary)) {
    if (Number.isFinite(c.before.mean)) ivPoints.push({ reward: name, policy: 'before', mean: c.before.mean, lo: c.before.ci_low, hi: c.before.ci_high });
    if (c.after && Number.isFinite(c.after.mean)) ivPoints.push({ reward: name, policy: 'after', mean: c.after.mean, lo: c.after.ci_low, hi: c.after.ci_high });
    if (c.difference && Number.isFinite(c.difference.mean)) diffPoints.push({ reward: name, policy: 'after - before', mean: c.difference.mean, lo: c.difference.ci_low, hi: c.difference.ci_high });
  }
  const intervals: Chart[] = [];
  if (ivPoints.length) intervals.push({ name: 'intervals', title: 'Means with intervals', svg: await renderSvg(intervalChartSpec(`Mean reward with ${pct} % bootstrap interval`, ivPoints, `${test.length} test questions, ${s.bootstrap_resamples} resamples`)) });
  if (diffPoints.length) intervals.push({ name: 'differences', title: 'Paired differences', svg: await renderSvg(differenceChartSpec(`After - before, paired by question (${pct} % interval)`, diffPoints, 'an interval crossing the dashed zero line may be noise')) });

  const metrics = await ctx.readOptionalInput('metrics');
  const training = metrics ? await trainingCharts(metrics) : { charts: [], rewards: [] };
  const log = await ctx.readOptionalInput('completions_log');
  const trainingNote = !after ? 'No grpo-train in this pipeline.'
    : !metrics ? 'grpo-train wrote no metrics.arrow.'
      : `${metrics.numRows} GRPO steps${log ? `, ${log.numRows} logged completions` : ''}.`;
  const sftLoss = await ctx.readOptionalInput('sft_loss');
  const sft = sftLoss ? await sftCharts(sftLoss) : [];
  const sftNote = sftLoss ? (sft.length ? '' : 'The sft loss table has no finite values.') : 'No sft warm-up in this pipeline.';

  const retrievalCharts: Chart[] = [];
  const rs = retrieval.test ?? retrieval.all;
  if (rs) {
    const three = (group: string, index: number, pov: number, context: number) => [
      { group, series: '1 index order', value: index }, { group, series: '2 POV order', value: pov }, { group, series: '3 context order', value: context }];
    const points = rs.ks.flatMap((k) => three(`recall@${k}`, rs.index.recall[k], rs.pov.recall[k], rs.context.recall[k]));
    points.push(...three('MRR', rs.index.mrr, rs.pov.mrr, rs.context.mrr));
    points.push({ group: 'gold in top n', series: '1 index order', value: rs.share_in_similarity_top_n }, { group: 'gold in top n', series: '3 context order', value: rs.share_in_context });
    retrievalCharts.push({ name: 'retrieval', title: 'Retrieval', svg: await renderSvg(barChartSpec(`Retrieval (${retrieval.test ? 'test split' : 'all questions'}, ${rs.questions} with gold chunks)`, points, { max: 1 })) });
  }
  const prefCharts: Chart[] = [];
  if (pref?.metrics) {
    const m = pref.metrics;
    const points = (['model_a', 'model_b', 'tie'] as const).flatMap((c) => [{ group: c, series: 'predicted', value: m.predicted[c] }, { group: c, series: 'labelled', value: m.labels[c] }]);
    prefCharts.push({ name: 'preference', title: 'Preference classes', svg: await renderSvg(barChartSpec('Predicted and labelled winners', points, { yTitle: 'pairs', subtitle: `log loss ${m.log_loss.toFixed(4)}, accuracy ${m.accuracy.toFixed(3)}` })) });
  }

  // Outputs.
  const byPolicy = [{ label: 'before', answers: beforeAnswers, values: values.before }, ...(afterAnswers && values.after ? [{ label: 'after', answers: afterAnswers, values: values.after }] : [])];
  const ev = evalTable(test, byPolicy, rewards);
  await ctx.writeOutput('eval', ev.table);
  await ctx.writeOutput('retrieval', retrievalTable(perQ));
  const json = {
    pipeline: ctx.pipeline.name,
    primary_reward: set.primary,
    rewards: summary,
    trained_rewards: set.trained,
    evaluation_only_rewards: set.evaluationOnly,
    questions: test.length,
    samples: s.samples,
    sampling,
    seed: ctx.seed,
    bootstrap: { method: 'percentile', resamples: s.bootstrap_resamples, confidence: s.confidence, exact: isExactBootstrap(test.length, s.bootstrap_resamples), resampled_by: 'question' },
    policies: {
      before: { stage: before.stage, model: before.record.model, digest: before.record.digest, adapter: before.adapter ? shown(before.adapter, ctx.root) : null },
      after: after ? { stage: after.stage, model: after.record.model, digest: after.record.digest, adapter: after.adapter ? shown(after.adapter, ctx.root) : null } : null,
    },
    retrieval,
    preference: pref && s.preference ? { pairs: pref.pairs, labelled: pref.labelled, errors: pref.errors, metrics: pref.metrics, tie_threshold: s.preference.tie_threshold, max_chars: s.preference.max_chars, replicas: s.preference.replicas } : null,
    notes,
  };
  await ctx.writeOutput('summary', JSON.stringify(json, null, 2) + '\n');
  await ctx.writeOutput('results_csv', resultsCsv(rows, rewards, !!after));
  const retrievalRows = perQ.map((r) => [r.question_id, r.split, r.gold.length, r.index_rank, r.pov_rank, r.context_rank, r.in_context ? 'yes' : 'no', r.in_prompt ? 'yes' : 'no', r.in_similarity_top_n ? 'yes' : 'no']);
  const prefRows = pref ? tableRows<Record<string, string | number | null>>(pref.table) : [];
  await ctx.writeOutput('results_xlsx', await resultsWorkbook({
    questions: rows, rewards, hasAfter: !!after, summary, answers: { header: ev.header, rows: ev.rows },
    retrieval: perQ.length ? { header: ['question_id', 'split', 'gold_chunks', 'index_rank', 'pov_rank', 'context_rank', 'in_context', 'in_prompt', 'in_similarity_top_n'], rows: retrievalRows } : undefined,
    preference: pref ? { header: pref.table.schema.fields.map((f) => f.name), rows: prefRows.map((r) => Object.values(r)) } : undefined,
  }));
  const f = (x: number | null) => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(4));
  await ctx.writeOutput('report', renderReport({
    pipeline: ctx.pipeline.name, notes,
    before: describe(before, ctx.root), after: after ? describe(after, ctx.root) : null,
    sampling: `${s.samples === 1 && sampling.temperature === 0 ? 'Greedy answers' : `${s.samples} answer(s) per question at temperature ${sampling.temperature}`} (top_p ${sampling.top_p}, top_k ${sampling.top_k}, max_completion_length ${sampling.max_completion_length}), the same seeds for both policies.`,
    primary: set.primary, trained: set.trained, evaluationOnly: set.evaluationOnly,
    confidence: s.confidence, resamples: s.bootstrap_resamples, summary,
    charts: { intervals, training: training.charts, sft, retrieval: retrievalCharts, preference: prefCharts },
    trainingNote, sftNote, questions: rows, examples: s.report.examples,
    retrieval: { ...retrieval, note: retrievalNote }, heatmapNote, rankReport: rankLink,
    preference: pref ? {
      note: prefNote, metrics: pref.metrics, pairs: pref.pairs, labelled: pref.labelled, errors: pref.errors,
      rows: prefRows.slice(0, 20).map((r) => [String(r.pair_id), f(r.score_a as number | null), f(r.score_b as number | null), f(r.winner_model_a as number), f(r.winner_model_b as number), f(r.winner_tie as number), String(r.winner ?? '–')]),
    } : null,
  }));

  const p = summary[set.primary];
  const gain = p.difference && p.after ? `${set.primary} ${formatInterval(p.before)} -> ${formatInterval(p.after)}, difference ${formatInterval(p.difference, 3, true)} (sign test p ${p.difference.p_value.toFixed(3)})` : `${set.primary} ${formatInterval(p.before)} (before only)`;
  const prefPart = pref ? `; ${pref.pairs} preference pairs${pref.metrics ? ` (log loss ${pref.metrics.log_loss.toFixed(4)}, accuracy ${pref.metrics.accuracy.toFixed(3)})` : ' (unlabelled)'}` : '';
  return `${test.length} test questions x ${s.samples} answer(s): ${gain}${prefPart}`;
}
