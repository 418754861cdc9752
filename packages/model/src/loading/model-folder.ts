/**
 * Reads a local Hugging Face model folder: config.json, generation_config.json (optional),
 * model.safetensors or a sharded model.safetensors.index.json, and the tokenizer; validates that
 * they agree (weight names/shapes against the config, tokenizer ids against vocab_size).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readModelConfig, validateWeights, type ModelConfig } from './model-config.ts';
import { readSafetensors, readShardedSafetensors, SafetensorsError, type SafeTensor } from './safetensors.ts';
import { loadTokenizer, type Tokenizer } from './tokenizer.ts';

export const SINGLE_WEIGHTS_FILE = 'model.safetensors';
export const SHARD_INDEX_FILE = 'model.safetensors.index.json';

/** Sampling defaults from generation_config.json (only the fields the sampler uses). */
export interface GenerationDefaults {
  eosTokenIds: number[];
  padTokenId: number | null;
  bosTokenId: number | null;
  doSample: boolean | null;
  temperature: number | null;
  topK: number | null;
  topP: number | null;
  repetitionPenalty: number | null;
  maxNewTokens: number | null;
}

export interface ModelFolder {
  folder: string;
  config: ModelConfig;
  generation: GenerationDefaults;
  /** Weights as read (F16/BF16 already widened to Float32Array); `dtype` is the stored dtype. */
  weights: Map<string, SafeTensor>;
  /** Tensors present in the files but unused (e.g. rotary inv_freq buffers). */
  ignoredTensors: string[];
  tokenizer: Tokenizer | null;
  /** The weight files that were read, relative to the folder. */
  weightFiles: string[];
}

/** Which weight files a folder holds: the shard index wins over a single file, as in transformers. */
export function findWeightFiles(folder: string): { kind: 'single' | 'sharded'; file: string } {
  const abs = path.resolve(folder);
  const index = path.join(abs, SHARD_INDEX_FILE);
  if (fs.existsSync(index)) return { kind: 'sharded', file: index };
  const single = path.join(abs, SINGLE_WEIGHTS_FILE);
  if (fs.existsSync(single)) return { kind: 'single', file: single };
  const other = fs.existsSync(abs) ? fs.readdirSync(abs).filter((f) => /\.(bin|pt|pth|gguf|onnx)$/.test(f)) : [];
  throw new SafetensorsError(
    `${abs}: no ${SINGLE_WEIGHTS_FILE} or ${SHARD_INDEX_FILE}` +
      (other.length ? ` (found ${other.join(', ')}: only safetensors weights are supported; convert them with transformers' save_pretrained(safe_serialization=True))` : ''),
  );
}

/** Reads all weights of a folder (single file or shards). */
export function readModelWeights(folder: string): { weights: Map<string, SafeTensor>; files: string[] } {
  const found = findWeightFiles(folder);
  if (found.kind === 'single') return { weights: readSafetensors(found.file), files: [SINGLE_WEIGHTS_FILE] };
  const weights = readShardedSafetensors(found.file);
  const index = JSON.parse(fs.readFileSync(found.file, 'utf8')) as { weight_map: Record<string, string> };
  return { weights, files: [SHARD_INDEX_FILE, ...new Set(Object.values(index.weight_map))].sort() };
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Reads generation_config.json when present; falls back to the config's token ids. */
export function readGenerationDefaults(folder: string, config: ModelConfig): GenerationDefaults {
  const file = path.join(path.resolve(folder), 'generation_config.json');
  let g: Record<string, unknown> = {};
  if (fs.existsSync(file)) {
    try {
      g = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
    }
  }
  const eos = g['eos_token_id'];
  const eosIds = eos === undefined || eos === null ? config.eosTokenIds : (Array.isArray(eos) ? eos : [eos]).filter((x): x is number => typeof x === 'number');
  return {
    eosTokenIds: eosIds,
    padTokenId: num(g['pad_token_id']) ?? config.padTokenId,
    bosTokenId: num(g['bos_token_id']) ?? config.bosTokenId,
    doSample: typeof g['do_sample'] === 'boolean' ? (g['do_sample'] as boolean) : null,
    temperature: num(g['temperature']),
    topK: num(g['top_k']),
    topP: num(g['top_p']),
    repetitionPenalty: num(g['repetition_penalty']),
    maxNewTokens: num(g['max_new_tokens']),
  };
}

/**
 * Reads and validates a whole model folder. `tokenizer: false` skips the tokenizer (weights-only use).
 */
export async function readModelFolder(folder: string, opts: { tokenizer?: boolean } = {}): Promise<ModelFolder> {
  const abs = path.resolve(folder);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
    throw new Error(`${abs}: model folder not found (expected config.json, model.safetensors and tokenizer files)`);
  }
  const config = readModelConfig(path.join(abs, 'config.json'));
  const { weights, files } = readModelWeights(abs);
  const { ignored } = validateWeights(config, weights, abs);
  const tokenizer = opts.tokenizer === false ? null : await loadTokenizer(abs, { configVocabSize: config.vocabSize });
  return {
    folder: abs,
    config,
    generation: readGenerationDefaults(abs, config),
    weights,
    ignoredTensors: ignored,
    tokenizer,
    weightFiles: files,
  };
}
