import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fetchCommandFor } from '@ragrpo/config';

export type DenseDtype = 'fp32' | 'fp16' | 'q8';

/** transformers.js picks onnx/model<suffix>.onnx by dtype. */
const ONNX_FILE: Record<DenseDtype, string> = {
  fp32: 'onnx/model.onnx',
  fp16: 'onnx/model_fp16.onnx',
  q8: 'onnx/model_quantized.onnx',
};

export interface ModelLocation {
  /** What transformers.js is given: an absolute folder, or the hub id when it may download. */
  modelId: string;
  /** The local folder in use, or null when the model comes from the hub (or its cache). */
  folder: string | null;
  /** Where hub ids are looked up locally and cached: transformers.js' localModelPath and cacheDir. */
  modelsDir: string;
}

export interface LocateOptions {
  model: string;
  dtype: DenseDtype;
  allowRemote: boolean;
  /** Absolute folder for hub ids (`<modelsDir>/<owner>/<name>`). */
  modelsDir: string;
  /** Base for relative folder names. */
  root: string;
}

const HUB_ID = /^[\w.-]+(\/[\w.-]+)?$/;

function isDir(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}

/** The first file the model folder lacks, or null when it has what transformers.js loads. */
export function missingModelFile(folder: string, dtype: DenseDtype): string | null {
  for (const f of ['config.json', 'tokenizer.json', ONNX_FILE[dtype]]) {
    if (!existsSync(path.join(folder, f))) return f;
  }
  return null;
}

/**
 * Finds the model without touching the network. A name that is a folder (absolute, './x', or an
 * existing relative path) is used as is; a hub id is looked for under models_dir. Only when no
 * local copy exists and allow_remote is set is the hub id handed to transformers.js to download.
 * Otherwise one line says which folder is missing and the two ways to fix it.
 */
export function locateModel(o: LocateOptions): ModelLocation {
  const direct = path.resolve(o.root, o.model);
  const pathLike = path.isAbsolute(o.model) || o.model.startsWith('.') || isDir(direct)
    || path.resolve(o.root, o.model).startsWith(o.modelsDir + path.sep) || !HUB_ID.test(o.model);
  const folder = pathLike ? direct : path.join(o.modelsDir, o.model);
  const missing = isDir(folder) ? missingModelFile(folder, o.dtype) : 'the folder';
  if (missing === null) return { modelId: folder, folder, modelsDir: o.modelsDir };
  if (o.allowRemote && !pathLike) return { modelId: o.model, folder: null, modelsDir: o.modelsDir };
  const what = missing === 'the folder' ? `no model folder at ${folder}` : `model folder ${folder} has no ${missing}`;
  const remote = pathLike
    ? 'or name a hub id with embed.dense.allow_remote: true and network access'
    : 'or set embed.dense.allow_remote: true with network access to download it';
  const build = fetchCommandFor(o.model) ?? `npx tsx tools/tiny-embedder/build.ts --out ${folder} --seed 0`;
  throw new Error(`embed.dense.model '${o.model}': ${what}; build one with '${build}' ${remote}`);
}
