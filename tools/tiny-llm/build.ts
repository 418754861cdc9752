/**
 * The tiny-llm CLI: a thin command over @ragrpo/model's scratch-model builder (packages/model/src/scratch/) with the
 * tiny test models' defaults (2 layers, hidden 64, 4 heads, MLP 128, vocab 512) and the built-in corpus (corpus.ts).
 * Writes a Hugging Face folder: config.json, generation_config.json, tokenizer.json, tokenizer_config.json,
 * model.safetensors.
 *
 *   npx tsx tools/tiny-llm/build.ts --arch qwen2 --out models/tiny-qwen2 --seed 0
 *
 * Everything is a pure function of the options (same options -> byte-identical files).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { buildScratchModelSync, SCRATCH_ARCHS, type ScratchArch, type ScratchModelResult } from '@ragrpo/model';
import { tinyCorpus } from './corpus.ts';

export const TINY_ARCHS = SCRATCH_ARCHS;
export type TinyArch = ScratchArch;

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
  /** BPE training texts; default: the built-in tiny corpus (corpus.ts). */
  corpus?: Iterable<string>;
}

export type TinyModelResult = ScratchModelResult;

/** Builds a tiny model with the tiny defaults (see the module comment). */
export function buildTinyModel(opts: TinyModelOptions): TinyModelResult {
  if (!(TINY_ARCHS as readonly string[]).includes(opts.arch)) {
    throw new Error(`unknown arch ${JSON.stringify(opts.arch)}; expected one of ${TINY_ARCHS.join(', ')}`);
  }
  return buildScratchModelSync({
    out: opts.out,
    arch: opts.arch,
    seed: opts.seed ?? 0,
    layers: opts.layers ?? 2,
    hidden: opts.hidden ?? 64,
    heads: opts.heads ?? 4,
    kvHeads: opts.kvHeads,
    intermediate: opts.intermediate ?? 128,
    maxPositions: opts.maxPositions ?? (opts.arch === 'llama3' ? 131072 : 512),
    slidingWindow: opts.slidingWindow,
    initStd: opts.initStd,
    dtype: opts.dtype,
    // One text, as the first version trained on: the corpus' newlines are words of their own.
    corpus: opts.corpus ?? [tinyCorpus()],
    vocabSize: opts.vocab ?? 512,
  });
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
    .option('--corpus <file>', 'UTF-8 text file to train the BPE on (default: the built-in tiny corpus)')
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
    corpus: o.corpus === undefined ? undefined : [fs.readFileSync(o.corpus, 'utf8')],
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
