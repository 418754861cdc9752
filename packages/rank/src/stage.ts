import path from 'node:path';
import type { RankConfig, StageContext } from '@ragrpo/config';
import { tableRows, writeFileAtomic } from '@ragrpo/contracts';
import { createProgress } from '@ragrpo/progress';
import { safeFileName } from './file-names.ts';
import { findHeatmapFonts } from './fonts.ts';
import { drawHeatmap } from './heatmap.ts';
import { renderIndexHtml, type ReportQuestion } from './html-report.ts';
import { NO_POVS_MESSAGE } from './pov-score.ts';
import { rankRetrieved } from './rank-retrieved.ts';
import { denseVectorSet, sparseVectorSet } from './vector-set.ts';
import { goldInContextShare, POV_WEIGHT_SWEEP } from './blend.ts';

/**
 * The rank stage: reads index's retrieved chunks, embed's chunk and POV vectors and ingest's question and
 * POV texts; writes ranked, pov_matrix, heatmaps/<question>.svg|png and the report page (stage.json).
 */
export async function rankStage(ctx: StageContext<RankConfig>): Promise<string> {
  const opts = ctx.settings;
  // ingest writes povs.arrow only when the pipeline names POVs: that is how rank knows, not ingest's settings.
  // Without POVs, pov_weight 0 keeps the retrieval order (a seed with no points of view); anything else is a mistake.
  const hasPovs = await ctx.hasInput('povs');
  if (!hasPovs && opts.pov_weight !== 0) throw new Error(NO_POVS_MESSAGE);
  const kind = opts.vectors ?? ((await ctx.hasInput('chunks_dense')) ? 'dense' : 'sparse');
  const chunkFile = ctx.inputPath(`chunks_${kind}`)!;
  const povFile = ctx.inputPath(`povs_${kind}`)!;
  if (!(await ctx.hasInput(`chunks_${kind}`))) {
    const other = kind === 'dense' ? 'sparse' : 'dense';
    throw new Error(`${chunkFile}: not found; rank.vectors is '${kind}', so configure embed.${kind} and re-run embed, or set rank.vectors: ${other}`);
  }
  if (hasPovs && !(await ctx.hasInput(`povs_${kind}`))) throw new Error(`${povFile}: not found; ingest wrote POVs, so re-run embed (nx runs it as a dependency)`);
  const [chunkVectors, povVectors, retrieved] = await Promise.all([
    ctx.readInput(`chunks_${kind}`),
    hasPovs ? ctx.readInput(`povs_${kind}`) : Promise.resolve(kind === 'dense' ? denseVectorSet([], []) : sparseVectorSet([], [])),
    ctx.readInput('retrieved'),
  ]);
  const questionsTable = await ctx.readOptionalInput('questions');
  const questions = questionsTable ? tableRows<{ question_id: string; question: string; gold_chunk_ids: string[]; split: string }>(questionsTable) : [];
  const povTextById = new Map(hasPovs ? tableRows<{ pov_id: string; text: string }>(await ctx.readInput('povs')).map((p) => [p.pov_id, p.text]) : []);

  const result = rankRetrieved(retrieved, chunkVectors, povVectors, {
    topN: opts.top_n, povWeight: opts.pov_weight, questionIds: questions.map((q) => q.question_id), chunkVectorsName: chunkFile, povVectorsName: povFile,
  });
  result.warnings.forEach((w) => ctx.log.warn(w));
  await ctx.writeOutput('ranked', result.ranked);
  await ctx.writeOutput('pov_matrix', result.povMatrix);

  const questionText = new Map(questions.map((q) => [q.question_id, q.question]));
  // How often the answer's chunk survives into the context, at this pov_weight and across the sweep (issue: POV
  // re-ranking can push the gold chunk out of the top_n).
  const goldOf = new Map(questions.map((q) => [q.question_id, Array.from(q.gold_chunk_ids ?? [])]));
  const scored = result.questions.map((q) => {
    const byRetrieval = [...q.chunks].sort((a, b) => a.similarityRank - b.similarityRank);
    return { chunkIds: byRetrieval.map((c) => c.chunkId), similarity: byRetrieval.map((c) => c.similarity), povScore: byRetrieval.map((c) => c.povScore), gold: goldOf.get(q.questionId) ?? [] };
  });
  const here = goldInContextShare(scored, opts.top_n, opts.pov_weight);
  const goldInContext = here.questions === 0 ? null : {
    questions: here.questions, share: here.share,
    byPovWeight: POV_WEIGHT_SWEEP.map((w) => ({ povWeight: w, share: goldInContextShare(scored, opts.top_n, w).share })),
  };
  const goldJson = goldInContext && {
    questions: goldInContext.questions, share: goldInContext.share,
    by_pov_weight: goldInContext.byPovWeight.map((b) => ({ pov_weight: b.povWeight, share: b.share })),
  };
  await ctx.writeOutput('summary', JSON.stringify({ top_n: opts.top_n, pov_weight: opts.pov_weight, vectors: kind, gold_in_context: goldJson }, null, 2) + '\n');
  const povTexts = result.povIds.map((id) => povTextById.get(id) ?? id);
  const { heatmap } = opts;
  const wantHeatmaps = (heatmap.svg || heatmap.png) && result.povIds.length > 0;
  const found = wantHeatmaps && heatmap.png ? findHeatmapFonts(heatmap.fonts.map((f) => ctx.resolve(f))) : { fonts: null, warnings: [] };
  found.warnings.forEach((w) => ctx.log.warn(w));
  if (wantHeatmaps && heatmap.png && !found.fonts) {
    ctx.log.warn('no font found for the heatmap PNGs (resvg draws no text without one); writing SVG only. Install fonts-dejavu-core or list a .ttf in rank.heatmap.fonts');
  }
  // The test split first: those are the questions evaluate's report shows, so its heatmaps are there to embed.
  const splitOf = new Map(questions.map((q) => [q.question_id, q.split]));
  const withChunks = result.questions.filter((q) => q.chunks.length > 0);
  const toDraw = wantHeatmaps
    ? [...withChunks.filter((q) => splitOf.get(q.questionId) === 'test'), ...withChunks.filter((q) => splitOf.get(q.questionId) !== 'test')].slice(0, heatmap.max_questions)
    : [];
  const progress = createProgress({ stage: 'rank', task: 'heatmaps', total: toDraw.length, unit: 'heatmaps' });
  const images = new Map<string, string>();
  const missing = new Set<string>();
  for (const ranking of toDraw) {
    const drawn = await drawHeatmap(
      { ranking, title: questionText.get(ranking.questionId) ?? ranking.questionId, povTexts, labelChars: heatmap.label_chars },
      found.fonts, { png: heatmap.png },
    );
    drawn.missingGlyphs.forEach((c) => missing.add(c));
    const base = path.join(ctx.outputPath('heatmaps'), safeFileName(ranking.questionId));
    if (heatmap.svg || !drawn.png) await writeFileAtomic(`${base}.svg`, drawn.svg);
    if (drawn.png) await writeFileAtomic(`${base}.png`, drawn.png);
    images.set(ranking.questionId, path.relative(path.dirname(ctx.outputPath('report')), `${base}.${drawn.png ? 'png' : 'svg'}`).split(path.sep).join('/'));
    progress.tick();
  }
  if (toDraw.length) progress.done();
  if (missing.size) {
    const sample = [...missing].slice(0, 12).join('');
    ctx.log.warn(`the heatmap fonts lack ${missing.size} characters used in labels (e.g. '${sample}'); they show as boxes in the PNG. Add a font that covers them to rank.heatmap.fonts (e.g. Noto Sans CJK for Japanese)`);
  }

  const report: ReportQuestion[] = result.questions.map((ranking) => ({
    ranking, question: questionText.get(ranking.questionId) ?? ranking.questionId, image: images.get(ranking.questionId),
  }));
  await ctx.writeOutput('report', renderIndexHtml({
    pipeline: ctx.pipeline.name, vectors: kind, topN: opts.top_n, povWeight: opts.pov_weight, goldInContext,
    povs: result.povIds.map((id, j) => ({ id, text: povTexts[j] })), questions: report,
  }));
  const ranked = result.questions.filter((q) => q.chunks.length > 0).length;
  const gold = goldInContext ? `, gold chunk in context for ${(100 * goldInContext.share).toFixed(1)}% of ${goldInContext.questions}` : '';
  if (!hasPovs) return `${ranked}/${result.questions.length} questions in retrieval order (no POVs, pov_weight 0, top ${opts.top_n} in context)${gold}`;
  return `${ranked}/${result.questions.length} questions re-ranked by ${kind} POV score against ${result.povIds.length} POVs (pov_weight ${opts.pov_weight}, top ${opts.top_n} in context)${gold}, ${toDraw.length} heatmaps`;
}
