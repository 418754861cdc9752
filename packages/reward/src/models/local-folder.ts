/**
 * Model folders for the model-backed rewards (sentiment's classifier, reward_model): a local
 * folder in the Hugging Face layout that transformers.js loads. Nothing is ever downloaded:
 * remote loading is switched off and a missing file is reported, with the folder, before
 * transformers.js is asked for anything.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { env } from '@huggingface/transformers';

const NEEDED = ['config.json', 'tokenizer.json', 'onnx/model.onnx'];

/** Throws one line naming the folder (and the first missing file) unless it can be loaded. */
export function checkModelFolder(reward: string, folder: string): void {
  let isDir = false;
  try { isDir = statSync(folder).isDirectory(); } catch { /* reported below */ }
  if (!isDir) {
    throw new Error(`reward '${reward}': no model folder at ${folder}; give a local folder in the Hugging Face layout (${NEEDED.join(', ')})`);
  }
  const missing = NEEDED.find((f) => !existsSync(path.join(folder, f)));
  if (missing) throw new Error(`reward '${reward}': model folder ${folder} has no ${missing}`);
}

/**
 * The id to hand transformers.js for a local folder: the absolute path, which it reads as a path
 * (never as a hub id, so env.localModelPath is not involved). Remote loading is switched off;
 * transformers.js' settings are process-wide, so this is set on every load.
 */
export function localModelId(folder: string): string {
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  return path.resolve(folder);
}

/** Loading options for a local folder: fp32 ONNX on the CPU, local files only. */
export const LOCAL_LOAD = { local_files_only: true, dtype: 'fp32', device: 'cpu' } as const;
