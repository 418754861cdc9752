import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { PipelineSchema, type PipelineConfig } from './pipeline-schema.ts';
import { formatIssues } from './yaml-errors.ts';

export interface LoadedPipeline {
  /** The pipeline's name: its file name without extension; also its Nx project name. */
  name: string;
  file: string;
  config: PipelineConfig;
}

export class PipelineConfigError extends Error {}

/** Parses YAML text: syntax errors carry file:line:col. */
export function parsePipelineYaml(text: string, file: string): { raw: Record<string, unknown>; doc: ReturnType<typeof parseDocument>; lines: LineCounter } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const pos = lines.linePos(e.pos[0]);
    throw new PipelineConfigError(`${file}:${pos.line}:${pos.col}: YAML syntax error: ${e.message.split('\n')[0]}`);
  }
  const raw = doc.toJS() as unknown;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PipelineConfigError(`${file}: a pipeline file must be a mapping with ingest, embed, index and rank sections`);
  }
  return { raw: raw as Record<string, unknown>, doc, lines };
}

export function loadPipelineText(text: string, file: string): LoadedPipeline {
  const { raw, doc, lines } = parsePipelineYaml(text, file);
  const parsed = PipelineSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PipelineConfigError(formatIssues(file, doc, lines, PipelineSchema, raw, parsed.error.issues));
  }
  return { name: path.basename(file).replace(/\.ya?ml$/, ''), file, config: parsed.data };
}

export function loadPipeline(file: string): LoadedPipeline {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PipelineConfigError(`${file}: cannot read the pipeline file (${(err as NodeJS.ErrnoException).code}). Pass --pipeline pipelines/<name>.yaml`);
  }
  return loadPipelineText(text, file);
}
