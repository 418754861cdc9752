import path from 'node:path';
import { Command } from 'commander';
import { withStageOutput } from '@ragrpo/contracts';
import { createLogger, formatDuration, type Logger } from '@ragrpo/progress';
import { loadPipeline, type LoadedPipeline } from './load-pipeline.ts';

export interface StageContext {
  pipeline: LoadedPipeline;
  /** Workspace root: relative paths in the pipeline file are resolved against it. */
  root: string;
  /** The temporary output folder; it replaces the stage folder only when the stage succeeds. */
  outDir: string;
  /** The artifact folder of another (upstream) stage of the same pipeline. */
  stageDir(stage: string): string;
  resolve(p: string): string;
  log: Logger;
}

export function artifactsRoot(root: string): string {
  return path.resolve(root, process.env.RAGRPO_ARTIFACTS ?? 'artifacts');
}

export function stageFolder(root: string, pipelineName: string, stage: string): string {
  return path.join(artifactsRoot(root), pipelineName, stage);
}

/**
 * The whole of a stage's command line: parse arguments, load and validate the pipeline,
 * run the stage into a temporary folder, swap it in, print a one-line summary; on any
 * error print one line and exit non-zero, leaving the previous output untouched.
 */
export async function runStageCommand(stage: string, run: (ctx: StageContext) => Promise<string>, argv = process.argv): Promise<void> {
  const program = new Command(`ragrpo-${stage}`)
    .description(`Runs the ${stage} stage of a ragrpo pipeline`)
    .requiredOption('-p, --pipeline <file>', 'pipeline YAML file, e.g. pipelines/pipeline.yaml')
    .exitOverride();
  const log = createLogger(stage);
  const started = performance.now();
  try {
    program.parse(argv);
    const opts = program.opts<{ pipeline: string }>();
    const root = process.env.NX_WORKSPACE_ROOT ?? process.cwd();
    const pipeline = loadPipeline(path.resolve(root, opts.pipeline));
    const finalDir = stageFolder(root, pipeline.name, stage);
    const summary = await withStageOutput(finalDir, (outDir) => run({
      pipeline, root, outDir,
      stageDir: (s) => stageFolder(root, pipeline.name, s),
      resolve: (p) => path.resolve(root, p),
      log,
    }));
    log.info(`${summary} -> ${path.relative(root, finalDir)} (${formatDuration((performance.now() - started) / 1000)})`);
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return;
    log.error(e.message);
    if (process.env.RAGRPO_DEBUG) console.error(e.stack);
    process.exitCode = 1;
  }
}
