// Loads a local Hugging Face model folder into the form the graph builders use: validated config,
// float32 weights keyed by their Hugging Face names, the tokenizer and generation defaults.
import { readModelFolder, type GenerationDefaults } from './model-folder.ts';
import type { ModelConfig } from './model-config.ts';
import type { Tokenizer } from './tokenizer.ts';
import type { WeightTensor } from './weights.ts';

export interface LoadedModel {
  folder: string;
  config: ModelConfig;
  generation: GenerationDefaults;
  /** float32 weights by Hugging Face name (unused buffers such as rotary inv_freq dropped) */
  weights: Map<string, WeightTensor>;
  tokenizer: Tokenizer | null;
}

/**
 * Reads config.json, model.safetensors (or the sharded index) and the tokenizer, with readModelFolder's checks:
 * unsupported architectures, wrong weight shapes/dtypes and tokenizer/vocabulary mismatches are refused there.
 */
export async function loadModel(folder: string, opts: { tokenizer?: boolean } = {}): Promise<LoadedModel> {
  const f = await readModelFolder(folder, opts);
  const ignored = new Set(f.ignoredTensors);
  const weights = new Map<string, WeightTensor>();
  for (const [name, t] of f.weights) {
    if (ignored.has(name)) continue;
    const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
    weights.set(name, { shape: [...t.shape], data });
  }
  return { folder: f.folder, config: f.config, generation: f.generation, weights, tokenizer: f.tokenizer };
}
