// Writes a trained model as a plain Hugging Face folder (config, tokenizer and generation files copied from the
// source folder, weights in model.safetensors), so it loads anywhere a base checkpoint does: LoRA merged in,
// or the fully fine-tuned weights.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mergeLora } from '../lora/lora.ts';
import type { Policy } from '../policy/policy.ts';
import { writeSafetensors } from './safetensors.ts';
import type { WeightMap } from './weights.ts';

/** Files besides the weights that make a folder loadable (copied when present). */
const COMPANION_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja'];

/** The policy's current weights as one map: base with the adapter merged, or the trained full weights. */
export function currentWeights(policy: Policy): WeightMap {
  if (policy.trainable === 'full') return policy.params;
  return policy.lora ? mergeLora(policy.config, policy.base, policy.lora) : policy.base;
}

/** Writes `dir` as a Hugging Face model folder built from `sourceFolder` (the folder the base was loaded from). */
export function exportModel(dir: string, policy: Policy, sourceFolder: string): void {
  if (!fs.existsSync(path.join(sourceFolder, 'config.json'))) {
    throw new Error(`${sourceFolder}: no config.json; pass the folder the base model was loaded from`);
  }
  if (path.resolve(dir) === path.resolve(sourceFolder)) throw new Error(`${dir}: refusing to overwrite the source model folder`);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of COMPANION_FILES) {
    const src = path.join(sourceFolder, f);
    if (fs.existsSync(src)) fs.copyFileSync(src, path.join(dir, f));
  }
  // A stale shard index would shadow the new single file for loaders that prefer it.
  fs.rmSync(path.join(dir, 'model.safetensors.index.json'), { force: true });
  const tensors = new Map([...currentWeights(policy)].map(([k, w]) => [k, { shape: w.shape, data: w.data, dtype: 'F32' as const }]));
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
}
