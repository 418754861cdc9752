/**
 * Builds a tiny Llama-family model folder in the Hugging Face layout:
 *   config.json, generation_config.json, tokenizer.json, tokenizer_config.json, model.safetensors
 *
 *   npx tsx tools/tiny-llm/build.ts --arch qwen2 --out models/tiny-qwen2 --seed 0
 *
 * Everything is a pure function of the options (same options -> byte-identical files).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseModelConfig, validateWeights, writeSafetensors, type ModelConfig, type SafetensorsDType } from '@ragrpo/model';
import { TINY_ARCHS, tinyConfigJson, type TinyArch } from './arch-presets.ts';
import { buildTinyTokenizer } from './tokenizer-files.ts';
import { randomWeights } from './weights.ts';

export { TINY_ARCHS, type TinyArch } from './arch-presets.ts';

export interface TinyModelOptions {
  arch: TinyArch;
  out: string;
  seed?: number;
  layers?: number;
  hidden?: number;
  heads?: number;
  kvHeads?: number;
  intermediate?: number;
  /** Tokenizer vocabulary size (bytes + merges + 5 added tokens). */
  vocab?: number;
  maxPositions?: number;
  /** Mistral only. */
  slidingWindow?: number;
  /** Stored weight dtype. */
  dtype?: 'F32' | 'BF16' | 'F16';
  initStd?: number;
}

export interface TinyModelResult {
  out: string;
  config: ModelConfig;
  files: string[];
  tokenizerSize: number;
  numParameters: number;
}

const TORCH_DTYPE: Record<'F32' | 'BF16' | 'F16', string> = { F32: 'float32', BF16: 'bfloat16', F16: 'float16' };

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

export function buildTinyModel(opts: TinyModelOptions): TinyModelResult {
  if (!(TINY_ARCHS as readonly string[]).includes(opts.arch)) {
    throw new Error(`unknown arch ${JSON.stringify(opts.arch)}; expected one of ${TINY_ARCHS.join(', ')}`);
  }
  const dtype = opts.dtype ?? 'F32';
  const sizes = {
    layers: opts.layers ?? 2,
    hidden: opts.hidden ?? 64,
    heads: opts.heads ?? 4,
    kvHeads: opts.kvHeads,
    intermediate: opts.intermediate ?? 128,
    maxPositions: opts.maxPositions ?? (opts.arch === 'llama3' ? 131072 : 512),
    slidingWindow: opts.slidingWindow,
  };
  const tok = buildTinyTokenizer({
    vocabSize: opts.vocab ?? 512,
    tokenizerClass: opts.arch === 'qwen2' ? 'Qwen2Tokenizer' : 'PreTrainedTokenizerFast',
    modelMaxLength: sizes.maxPositions,
  });
  const ids = { bos: tok.ids.endoftext, eos: tok.ids.imEnd, pad: tok.ids.endoftext, tokenizerSize: tok.bpe.size };
  const configJson = tinyConfigJson(opts.arch, sizes, ids, TORCH_DTYPE[dtype]);
  // Parse our own output: a preset the engine would refuse fails here, at build time.
  const config = parseModelConfig(configJson, `${opts.arch} preset`);
  const weights = randomWeights(config, { seed: opts.seed ?? 0, initStd: opts.initStd ?? 0.02, normNoise: 0.05, biasStd: 0.05 });
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
  const out = path.resolve(opts.out);
  fs.mkdirSync(out, { recursive: true });
  // A stale shard index would shadow model.safetensors for loaders that prefer it.
  fs.rmSync(path.join(out, 'model.safetensors.index.json'), { force: true });
  const files: [string, string | Uint8Array][] = [
    ['config.json', json(configJson)],
    ['generation_config.json', json(generationConfig)],
    ['tokenizer.json', JSON.stringify(tok.tokenizerJson)],
    ['tokenizer_config.json', json(tok.tokenizerConfig)],
  ];
  for (const [name, content] of files) fs.writeFileSync(path.join(out, name), content);
  writeSafetensors(
    path.join(out, 'model.safetensors'),
    new Map([...weights].map(([k, v]) => [k, { dtype: dtype as SafetensorsDType, shape: v.shape, data: v.data }])),
    { format: 'pt' },
  );
  let numParameters = 0;
  for (const w of weights.values()) numParameters += w.data.length;
  return {
    out,
    config,
    files: [...files.map(([n]) => n), 'model.safetensors'],
    tokenizerSize: tok.bpe.size,
    numParameters,
  };
}

function intArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer, got "${v}"`);
    return n;
  };
}

function positiveNumberArg(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (!Number.isFinite(x) || x <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got "${v}"`);
    return x;
  };
}

export function main(argv: string[]): void {
  const program = new Command()
    .name('tiny-llm')
    .description('Write a tiny random Llama-family model (Hugging Face layout) for tests and offline pipelines')
    .addOption(new Option('--arch <arch>', 'architecture preset').choices([...TINY_ARCHS]).makeOptionMandatory())
    .requiredOption('--out <dir>', 'output folder, e.g. models/tiny-qwen2')
    .option('--seed <n>', 'weight seed', intArg('--seed'), 0)
    .option('--layers <n>', 'decoder layers', intArg('--layers'))
    .option('--hidden <n>', 'hidden size', intArg('--hidden'))
    .option('--heads <n>', 'attention heads', intArg('--heads'))
    .option('--kv-heads <n>', 'key/value heads (default: per arch)', intArg('--kv-heads'))
    .option('--intermediate <n>', 'MLP size', intArg('--intermediate'))
    .option('--vocab <n>', 'tokenizer vocabulary size incl. 5 added tokens', intArg('--vocab'))
    .option('--max-positions <n>', 'max_position_embeddings', intArg('--max-positions'))
    .option('--sliding-window <n>', 'mistral sliding_window', intArg('--sliding-window'))
    .option('--init-std <x>', 'std of the N(0, x) linear/embedding weights (default 0.02)', positiveNumberArg('--init-std'))
    .addOption(new Option('--dtype <dtype>', 'stored weight dtype').choices(['F32', 'BF16', 'F16']).default('F32'))
    .parse(argv);
  const o = program.opts();
  const r = buildTinyModel({
    arch: o.arch,
    out: o.out,
    seed: o.seed,
    layers: o.layers,
    hidden: o.hidden,
    heads: o.heads,
    kvHeads: o.kvHeads,
    intermediate: o.intermediate,
    vocab: o.vocab,
    maxPositions: o.maxPositions,
    slidingWindow: o.slidingWindow,
    initStd: o.initStd,
    dtype: o.dtype,
  });
  console.log(
    `wrote ${r.out}: ${r.config.architecture}, ${r.config.numLayers} layers, hidden ${r.config.hiddenSize}, ` +
      `${r.config.numHeads}/${r.config.numKvHeads} heads, vocab ${r.tokenizerSize} (config ${r.config.vocabSize}), ${r.numParameters} parameters`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    main(process.argv);
  } catch (e) {
    console.error(`tiny-llm: ${(e as Error).message}`);
    process.exit(1);
  }
}
