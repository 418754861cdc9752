import { runStageCommand } from '@ragrpo/config';
import { createProgress } from '@ragrpo/progress';
import { ingestSummary, runIngest, writeIngestArtifacts } from './ingest.ts';

await runStageCommand('ingest', async (ctx) => {
  const result = await runIngest(ctx.settings, {
    seed: ctx.seed,
    resolve: ctx.resolve,
    warn: (m) => ctx.log.warn(m),
    progress: (task, total, unit) => createProgress({ stage: 'ingest', task, total, unit }),
  });
  await writeIngestArtifacts(result, ctx.writeOutput);
  return ingestSummary(result);
});
