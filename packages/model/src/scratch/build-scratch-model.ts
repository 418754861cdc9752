/**
 * Builds a scratch Llama-family model folder in the Hugging Face layout:
 *   config.json, generation_config.json, tokenizer.json, tokenizer_config.json, model.safetensors
 * with a byte-level BPE trained on the given corpus and seeded random weights of the given shape.
 *
 * Everything is a pure function of the options (same options and corpus -> byte-identical files). The folder is
 * written atomically: the files go into a temporary sibling folder that is renamed to `out` when complete.
 */
import * as fs from 'node:fs';
import { swapInFolder } from '@ragrpo/contracts';
import * as path from 'node:path';
import { parseModelConfig, validateWeights, type ModelConfig } from '../loading/model-config.ts';
import { encodeSafetensors, type SafetensorsDType } from '../loading/safetensors.ts';
import { SCRATCH_ARCHS, scratchConfigJson, type ScratchArch } from './arch-presets.ts';
import { initWeights } from './init-weights.ts';
import { buildScratchTokenizer } from './tokenizer-files.ts';

export type ScratchDType = 'F32' | 'BF16' | 'F16';

export interface ScratchModelOptions {
  /** The model folder to write (replaced atomically if it exists and holds only model files). */
  out: string;
  arch: ScratchArch;
  layers: number;
  hidden: number;
  heads: number;
  /** Key/value heads; default per arch (llama: heads, smollm: 1, others: heads / 2 when even). */
  kvHeads?: number;
  intermediate: number;
  /** max_position_embeddings (also the tokenizer's model_max_length). */
  maxPositions: number;
  /** Mistral only: sliding_window (default 64). */
  slidingWindow?: number;
  /** Weight seed; the tokenizer does not depend on it. */
  seed: number;
  /** Std of the N(0, initStd) linear/embedding weights. Default 0.02. */
  initStd?: number;
  /** Stored weight dtype. Default F32. */
  dtype?: ScratchDType;
  /** BPE training texts, each pre-tokenised on its own. */
  corpus: Iterable<string>;
  /** Tokenizer vocabulary: 256 bytes + merges + 5 added tokens; smaller when the corpus runs out of repeated pairs. */
  vocabSize: number;
  /** BPE: minimum pair count to merge (default 2). */
  minFrequency?: number;
}

export interface ScratchModelResult {
  /** Absolute path of the folder. */
  out: string;
  config: ModelConfig;
  /** File names written, in writing order. */
  files: string[];
  /** Tokenizer vocabulary size (config vocab_size may be padded past it, as Qwen2 does). */
  tokenizerSize: number;
  numParameters: number;
}

const TORCH_DTYPE: Record<ScratchDType, string> = { F32: 'float32', BF16: 'bfloat16', F16: 'float16' };

/** Files a model folder may hold; an existing `out` with anything else is not replaced. */
const MODEL_FILE = /^(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|model\.safetensors\.index\.json|[^/]*\.safetensors)$/;

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** The builder itself (synchronous); `buildScratchModel` is the same as a promise. */
export function buildScratchModelSync(opts: ScratchModelOptions): ScratchModelResult {
  if (!(SCRATCH_ARCHS as readonly string[]).includes(opts.arch)) {
    throw new Error(`unknown arch ${JSON.stringify(opts.arch)}; expected one of ${SCRATCH_ARCHS.join(', ')}`);
  }
  const dtype = opts.dtype ?? 'F32';
  if (!(dtype in TORCH_DTYPE)) throw new Error(`unknown dtype ${JSON.stringify(dtype)}; expected F32, BF16 or F16`);
  const sizes = {
    layers: opts.layers,
    hidden: opts.hidden,
    heads: opts.heads,
    kvHeads: opts.kvHeads,
    intermediate: opts.intermediate,
    maxPositions: opts.maxPositions,
    slidingWindow: opts.slidingWindow,
  };
  const tok = buildScratchTokenizer({
    corpus: opts.corpus,
    vocabSize: opts.vocabSize,
    tokenizerClass: opts.arch === 'qwen2' ? 'Qwen2Tokenizer' : 'PreTrainedTokenizerFast',
    modelMaxLength: sizes.maxPositions,
    minFrequency: opts.minFrequency,
  });
  const ids = { bos: tok.ids.endoftext, eos: tok.ids.imEnd, pad: tok.ids.endoftext, tokenizerSize: tok.bpe.size };
  const configJson = scratchConfigJson(opts.arch, sizes, ids, TORCH_DTYPE[dtype]);
  // Parse our own output: a preset the engine would refuse fails here, at build time.
  const config = parseModelConfig(configJson, `${opts.arch} preset`);
  const weights = initWeights(config, { seed: opts.seed, initStd: opts.initStd ?? 0.02, normNoise: 0.05, biasStd: 0.05 });
  validateWeights(config, new Map([...weights].map(([k, v]) => [k, { dtype, shape: v.shape }])), `${opts.arch} preset`);

  const generationConfig = {
    bos_token_id: ids.bos,
    eos_token_id: [tok.ids.imEnd, tok.ids.endoftext],
    pad_token_id: ids.pad,
    do_sample: true,
    temperature: 0.7,
    top_k: 20,
    top_p: 0.8,
    repetition_penalty: 1.05,
    transformers_version: '4.46.0',
  };
  const files: [string, string | Uint8Array][] = [
    ['config.json', json(configJson)],
    ['generation_config.json', json(generationConfig)],
    ['tokenizer.json', JSON.stringify(tok.tokenizerJson)],
    ['tokenizer_config.json', json(tok.tokenizerConfig)],
    [
      'model.safetensors',
      encodeSafetensors(
        new Map([...weights].map(([k, v]) => [k, { dtype: dtype as SafetensorsDType, shape: v.shape, data: v.data }])),
        { format: 'pt' },
      ),
    ],
  ];
  const out = path.resolve(opts.out);
  writeFolderAtomically(out, files);
  let numParameters = 0;
  for (const w of weights.values()) numParameters += w.data.length;
  return { out, config, files: files.map(([n]) => n), tokenizerSize: tok.bpe.size, numParameters };
}

/** Builds a scratch model folder; see ScratchModelOptions. */
export async function buildScratchModel(opts: ScratchModelOptions): Promise<ScratchModelResult> {
  return buildScratchModelSync(opts);
}

/**
 * Writes `files` into a fresh temporary sibling of `out` (`.<name>.tmp-*`) and renames it to `out`. An existing
 * `out` is moved aside first and removed after, but only when it holds model files alone (a folder with anything
 * else is refused, so a mistyped --out never deletes unrelated files). Readers see the old folder or the new one,
 * never a half-written one; a crash leaves at most a `.<name>.tmp-*` folder behind.
 */
export function writeFolderAtomically(out: string, files: [string, string | Uint8Array][]): void {
  const parent = path.dirname(out);
  const name = path.basename(out);
  if (fs.existsSync(out)) {
    if (!fs.statSync(out).isDirectory()) throw new Error(`${out}: exists and is not a folder`);
    const foreign = fs.readdirSync(out).filter((f) => !MODEL_FILE.test(f));
    if (foreign.length > 0) {
      throw new Error(`${out}: refusing to replace a folder that holds non-model files (${foreign.slice(0, 5).join(', ')}); choose an empty or new folder`);
    }
  }
  fs.mkdirSync(parent, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(parent, `.${name}.tmp-`));
  fs.chmodSync(tmp, 0o755); // mkdtemp makes it 0700; a model folder is an ordinary folder
  try {
    for (const [file, content] of files) fs.writeFileSync(path.join(tmp, file), content);
    swapInFolder(tmp, out);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
