import path from 'node:path';
import { runStageCommand } from '@ragrpo/config';
import { runIndex } from './run-index.ts';

await runStageCommand('index', async (ctx) => {
  const result = await runIndex({
    chunks: await ctx.readInput('chunks'),
    chunkDense: await ctx.readOptionalInput('chunks_dense'),
    chunkSparse: await ctx.readOptionalInput('chunks_sparse'),
    questionDense: await ctx.readOptionalInput('questions_dense'),
    questionSparse: await ctx.readOptionalInput('questions_sparse'),
  }, ctx.settings, {
    pipelineName: ctx.pipeline.name,
    storeDir: ctx.outputPath('store'),
    inputsLabel: path.dirname(ctx.inputPath('chunks_sparse') ?? ctx.outDir),
    warn: (m) => ctx.log.warn(m),
    info: (m) => ctx.log.info(m),
  });
  await ctx.writeOutput('retrieved', result.retrieved);
  return result.summary;
});
