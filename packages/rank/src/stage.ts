import path from 'node:path';
import type { StageContext } from '@ragrpo/config';
import {
  DenseVectors, Povs, PovMatrix, Questions, Ranked, Retrieved, SparseVectors,
  exists, readTable, tableRows, writeFileAtomic, writeTable,
} from '@ragrpo/contracts';
import { createProgress } from '@ragrpo/progress';
import { safeFileName } from './file-names.ts';
import { findHeatmapFonts } from './fonts.ts';
import { drawHeatmap } from './heatmap.ts';
import { renderIndexHtml, type ReportQuestion } from './html-report.ts';
import { NO_POVS_MESSAGE } from './pov-score.ts';
import { rankRetrieved } from './rank-retrieved.ts';

/**
 * The rank stage: reads index's retrieved.arrow, embed's chunk and POV vectors and ingest's question and
 * POV texts; writes ranked.arrow, pov_matrix.arrow, heatmaps/<question>.svg|png and index.html into ctx.outDir.
 */
export async function rankStage(ctx: StageContext): Promise<string> {
  const { config } = ctx.pipeline;
  const opts = config.rank;
  if (!config.ingest.povs) throw new Error(NO_POVS_MESSAGE);
  const ingestDir = ctx.stageDir('ingest');
  const embedDir = ctx.stageDir('embed');
  const indexDir = ctx.stageDir('index');

  const kind = opts.vectors ?? ((await exists(path.join(embedDir, 'chunks.dense.arrow'))) ? 'dense' : 'sparse');
  const chunkFile = path.join(embedDir, `chunks.${kind}.arrow`);
  const povFile = path.join(embedDir, `povs.${kind}.arrow`);
  if (!(await exists(chunkFile))) {
    const other = kind === 'dense' ? 'sparse' : 'dense';
    throw new Error(`${chunkFile}: not found; rank.vectors is '${kind}', so configure embed.${kind} and re-run embed, or set rank.vectors: ${other}`);
  }
  if (!(await exists(povFile))) throw new Error(`${povFile}: not found; ingest.povs is set, so re-run ingest and embed (nx runs them as dependencies)`);
  const contract = kind === 'dense' ? DenseVectors : SparseVectors;
  const [chunkVectors, povVectors, retrieved] = await Promise.all([
    readTable(chunkFile, contract), readTable(povFile, contract), readTable(path.join(indexDir, 'retrieved.arrow'), Retrieved),
  ]);
  const questionsFile = path.join(ingestDir, 'questions.arrow');
  const questions = (await exists(questionsFile)) ? tableRows<{ question_id: string; question: string }>(await readTable(questionsFile, Questions)) : [];
  const povsFile = path.join(ingestDir, 'povs.arrow');
  const povTextById = new Map((await exists(povsFile)) ? tableRows<{ pov_id: string; text: string }>(await readTable(povsFile, Povs)).map((p) => [p.pov_id, p.text]) : []);

  const result = rankRetrieved(retrieved, chunkVectors, povVectors, {
    topN: opts.top_n, questionIds: questions.map((q) => q.question_id), chunkVectorsName: chunkFile, povVectorsName: povFile,
  });
  result.warnings.forEach((w) => ctx.log.warn(w));
  await writeTable(path.join(ctx.outDir, 'ranked.arrow'), Ranked, result.ranked);
  await writeTable(path.join(ctx.outDir, 'pov_matrix.arrow'), PovMatrix, result.povMatrix);

  const questionText = new Map(questions.map((q) => [q.question_id, q.question]));
  const povTexts = result.povIds.map((id) => povTextById.get(id) ?? id);
  const { heatmap } = opts;
  const wantHeatmaps = heatmap.svg || heatmap.png;
  const found = heatmap.png ? findHeatmapFonts(heatmap.fonts.map((f) => ctx.resolve(f))) : { fonts: null, warnings: [] };
  found.warnings.forEach((w) => ctx.log.warn(w));
  if (heatmap.png && !found.fonts) {
    ctx.log.warn('no font found for the heatmap PNGs (resvg draws no text without one); writing SVG only. Install fonts-dejavu-core or list a .ttf in rank.heatmap.fonts');
  }
  const toDraw = wantHeatmaps ? result.questions.filter((q) => q.chunks.length > 0).slice(0, heatmap.max_questions) : [];
  const progress = createProgress({ stage: 'rank', task: 'heatmaps', total: toDraw.length, unit: 'heatmaps' });
  const images = new Map<string, string>();
  const missing = new Set<string>();
  for (const ranking of toDraw) {
    const drawn = await drawHeatmap(
      { ranking, title: questionText.get(ranking.questionId) ?? ranking.questionId, povTexts, labelChars: heatmap.label_chars },
      found.fonts, { png: heatmap.png },
    );
    drawn.missingGlyphs.forEach((c) => missing.add(c));
    const base = path.join('heatmaps', safeFileName(ranking.questionId));
    if (heatmap.svg || !drawn.png) await writeFileAtomic(path.join(ctx.outDir, `${base}.svg`), drawn.svg);
    if (drawn.png) await writeFileAtomic(path.join(ctx.outDir, `${base}.png`), drawn.png);
    images.set(ranking.questionId, `${base}.${drawn.png ? 'png' : 'svg'}`.split(path.sep).join('/'));
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
  await writeFileAtomic(path.join(ctx.outDir, 'index.html'), renderIndexHtml({
    pipeline: ctx.pipeline.name, vectors: kind, topN: opts.top_n,
    povs: result.povIds.map((id, j) => ({ id, text: povTexts[j] })), questions: report,
  }));
  const ranked = result.questions.filter((q) => q.chunks.length > 0).length;
  return `${ranked}/${result.questions.length} questions re-ranked by ${kind} POV score against ${result.povIds.length} POVs (top ${opts.top_n} in context), ${toDraw.length} heatmaps`;
}
