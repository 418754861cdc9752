import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import type { Table } from 'apache-arrow';
import { CONTRACTS, exists, readTable, withStageOutput, writeFileAtomic, writeTable, type Contract } from '@ragrpo/contracts';
import { createLogger, formatDuration, type Logger } from '@ragrpo/progress';
import { loadPipeline, parsePipelineYaml } from './load-pipeline.ts';
import type { PipelineConfig } from './pipeline-schema.ts';
import { missingModelMessage, missingModels } from './stages/model-check.ts';
import { downstreamOf, resolveRead, stageDeclarations, stagesOf, upstreamOf, type StageDeclaration } from './stages/stage-declaration.ts';

type SectionOf<K extends string> = K extends keyof PipelineConfig ? NonNullable<PipelineConfig[K]> : unknown;

export interface StageContext<S = unknown> {
  pipeline: { name: string; file: string };
  stage: string;
  /** The pipeline's seed: every stage derives its randomness from it. */
  seed: number;
  /** This stage's own section of the pipeline file, validated. A stage reads no other section. */
  settings: S;
  /** Workspace root: relative paths in the pipeline file are resolved against it. */
  root: string;
  /** The temporary output folder; it replaces the stage folder only when the stage succeeds. */
  outDir: string;
  resolve(p: string): string;
  log: Logger;
  /** Path of a declared input (stage.json `reads`); undefined when its optional upstream stage is not in this pipeline. */
  inputPath(name: string): string | undefined;
  /** Whether a declared input exists (optional artifacts: an upstream writes them only when configured). */
  hasInput(name: string): Promise<boolean>;
  /** Reads a declared Arrow input, checked against the contract its writer declares. */
  readInput(name: string): Promise<Table>;
  /** readInput, or undefined when the input is not there. */
  readOptionalInput(name: string): Promise<Table | undefined>;
  /** Path in outDir of a declared output (stage.json `writes`). */
  outputPath(name: string): string;
  /** Writes a declared output atomically: a Table against its contract, or text/bytes. */
  writeOutput(name: string, data: Table | string | Uint8Array): Promise<void>;
}

export function artifactsRoot(root: string): string {
  return path.resolve(root, process.env.RAGRPO_ARTIFACTS ?? 'artifacts');
}

export function stageFolder(root: string, pipelineName: string, stage: string): string {
  return path.join(artifactsRoot(root), pipelineName, stage);
}

function contractOf(decl: StageDeclaration, artifact: string): Contract {
  const name = decl.writes[artifact].contract;
  const contract = name ? CONTRACTS[name] : undefined;
  if (!contract) throw new Error(`${decl.file}: writes.${artifact} names no known contract ('${name ?? ''}')`);
  return contract;
}

export type OutputWriter = (name: string, data: Table | string | Uint8Array) => Promise<void>;

/** Writes a stage's declared outputs into a folder (what ctx.writeOutput does; also for tests and tools). */
export function stageOutputWriter(stage: string, outDir: string): OutputWriter {
  const decl = stageDeclarations().get(stage);
  if (!decl) throw new Error(`no package declares a stage '${stage}' (packages/<name>/stage.json)`);
  return async (name, data) => {
    const w = decl.writes[name];
    if (!w) throw new Error(`${decl.file}: the stage writes '${name}', which its writes do not declare`);
    const file = path.join(outDir, w.file);
    if (typeof data === 'string' || data instanceof Uint8Array) await writeFileAtomic(file, data);
    else await writeTable(file, contractOf(decl, name), data);
  };
}

/** The context a stage runs with: its settings, and its declared inputs and outputs as paths in this pipeline. */
export function createStageContext<S>(opts: {
  stage: string; pipeline: { name: string; file: string }; seed: number; settings: S; root: string; outDir: string; present: string[]; log: Logger;
}): StageContext<S> {
  const decls = stageDeclarations();
  const decl = decls.get(opts.stage);
  if (!decl) throw new Error(`no package declares a stage '${opts.stage}' (packages/<name>/stage.json)`);
  const input = (name: string) => {
    const read = decl.reads[name];
    if (!read) throw new Error(`${decl.file}: the stage reads '${name}', which its reads do not declare`);
    const r = resolveRead(decls, opts.present, read, name);
    return r ? { ...r, path: path.join(stageFolder(opts.root, opts.pipeline.name, r.stage), r.file) } : undefined;
  };
  const readInput = async (name: string) => {
    const r = input(name);
    if (!r) throw new Error(`${opts.stage} reads '${name}' from ${[decl.reads[name].from].flat().join(' or ')}, which is not in ${opts.pipeline.file}`);
    return readTable(r.path, contractOf(decls.get(r.stage)!, r.artifact));
  };
  const outputPath = (name: string) => {
    const w = decl.writes[name];
    if (!w) throw new Error(`${decl.file}: the stage writes '${name}', which its writes do not declare`);
    return path.join(opts.outDir, w.file);
  };
  return {
    pipeline: opts.pipeline, stage: opts.stage, seed: opts.seed, settings: opts.settings,
    root: opts.root, outDir: opts.outDir, log: opts.log,
    resolve: (p) => path.resolve(opts.root, p),
    inputPath: (name) => input(name)?.path,
    hasInput: async (name) => { const r = input(name); return r ? exists(r.path) : false; },
    readInput,
    readOptionalInput: async (name) => { const r = input(name); return r && (await exists(r.path)) ? readInput(name) : undefined; },
    outputPath,
    writeOutput: stageOutputWriter(opts.stage, opts.outDir),
  };
}

/** The top-level mapping of a pipeline file, or null when it cannot be read or parsed (loadPipeline then says why). */
function readPipelineSections(file: string): Record<string, unknown> | null {
  try {
    return parsePipelineYaml(readFileSync(file, 'utf8'), file).raw;
  } catch {
    return null;
  }
}

/**
 * The whole of a stage's command line: parse arguments, load and validate the pipeline,
 * run the stage into a temporary folder, swap it in, print a one-line summary. On any error
 * print one line and exit non-zero; the stage's previous output and every downstream stage's
 * output are removed, because they no longer match the pipeline file (Nx's cache keeps them:
 * reverting the change restores them).
 */
export async function runStageCommand<K extends string>(stage: K, run: (ctx: StageContext<SectionOf<K>>) => Promise<string>, argv = process.argv): Promise<void> {
  const program = new Command(`ragrpo-${stage}`)
    .description(`Runs the ${stage} stage of a ragrpo pipeline`)
    .requiredOption('-p, --pipeline <file>', 'pipeline YAML file, e.g. pipelines/pipeline.yaml')
    .exitOverride();
  const log = createLogger(stage);
  const started = performance.now();
  let stale: string[] = [];
  try {
    program.parse(argv);
    const opts = program.opts<{ pipeline: string }>();
    const root = process.env.NX_WORKSPACE_ROOT ?? process.cwd();
    const file = path.resolve(root, opts.pipeline);
    const decls = stageDeclarations();
    // Which stages are stale if this one fails comes from the file's sections, known before its values are checked.
    const raw = readPipelineSections(file);
    if (raw) {
      const name = path.basename(file).replace(/\.ya?ml$/, '');
      const rawPresent = stagesOf(decls, raw);
      if (rawPresent.includes(stage)) stale = [stage, ...downstreamOf(decls, rawPresent, stage)].map((s) => stageFolder(root, name, s));
    }
    const pipeline = loadPipeline(file);
    const present = stagesOf(decls, pipeline.config);
    if (!present.includes(stage)) throw new Error(`${pipeline.file}: has no ${decls.get(stage)?.section ?? stage}: section, so the ${stage} stage does not run in this pipeline`);
    // Every model of the pipeline, not just this stage's: the first stage to run fails before any work. What
    // no longer matches the file is the output of the stages naming a missing model and of those downstream.
    const models = missingModels(decls, present, pipeline.config as Record<string, unknown>, root);
    if (models.length) {
      const stages = new Set(models.flatMap((m) => [m.stage, ...downstreamOf(decls, present, m.stage)]));
      stale = [...stages].map((s) => stageFolder(root, pipeline.name, s));
      throw new Error(missingModelMessage(path.relative(root, pipeline.file) || pipeline.file, models));
    }
    const { missing } = upstreamOf(decls, present, stage);
    if (missing.length) {
      const m = missing[0];
      const last = decls.get(m.from[m.from.length - 1]);
      throw new Error(`${pipeline.file}: the ${stage} stage reads '${m.name}' from ${m.from.join(' or ')}; add a ${last?.section ?? m.from[m.from.length - 1]}: section`);
    }
    const finalDir = stageFolder(root, pipeline.name, stage);
    const settings = (pipeline.config as Record<string, unknown>)[decls.get(stage)!.section] as SectionOf<K>;
    const summary = await withStageOutput(finalDir, (outDir) => run(createStageContext({
      stage, pipeline: { name: pipeline.name, file: pipeline.file }, seed: pipeline.config.seed, settings, root, outDir, present, log,
    })));
    log.info(`${summary} -> ${path.relative(root, finalDir)} (${formatDuration((performance.now() - started) / 1000)})`);
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return;
    await Promise.all(stale.map((dir) => rm(dir, { recursive: true, force: true }))).catch(() => undefined);
    log.error(e.message);
    if (process.env.RAGRPO_DEBUG) console.error(e.stack);
    process.exitCode = 1;
  }
}
