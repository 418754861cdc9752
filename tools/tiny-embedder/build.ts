/**
 * Builds the tiny sentence-embedding model tests and the offline pipeline use, in the Hugging Face
 * layout transformers.js loads (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx).
 * Weights are random but fully determined by the seed; the point is to run the real loading and
 * inference path, not to embed meaningfully.
 *
 *   npx tsx tools/tiny-embedder/build.ts --out models/tiny-embedder --seed 0
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { bertGraph, type BertShape } from './bert-graph.ts';
import { EMBEDDER_CORPUS } from './corpus.ts';
import { writeModel } from '@ragrpo/graph';
import { buildVocab, tokenizerConfigJson, tokenizerJson } from './wordpiece.ts';

// LayerNormalization entered the default domain in opset 17; IR version 8 pairs with it.
const OPSET = 17;
const MAX_POSITIONS = 512;

export interface TinyEmbedderOptions {
  /** Output folder (created). */
  out: string;
  seed: number;
  /** Hidden size (default 32); the feed-forward is 4x wider. */
  hidden?: number;
}

export interface TinyEmbedderInfo {
  dir: string;
  hidden: number;
  vocabSize: number;
  files: string[];
}

export async function buildTinyEmbedder(opts: TinyEmbedderOptions): Promise<TinyEmbedderInfo> {
  const hidden = opts.hidden ?? 32;
  if (!Number.isInteger(hidden) || hidden < 2) throw new Error(`hidden must be an integer >= 2, got ${hidden}`);
  if (!Number.isInteger(opts.seed) || opts.seed < 0) throw new Error(`seed must be a non-negative integer, got ${opts.seed}`);
  const vocab = buildVocab(EMBEDDER_CORPUS);
  const shape: BertShape = {
    vocabSize: vocab.length, hidden, intermediate: 4 * hidden,
    maxPositions: MAX_POSITIONS, typeVocabSize: 2, layerNormEps: 1e-12,
  };
  const config = {
    model_type: 'bert',
    architectures: ['BertModel'],
    vocab_size: shape.vocabSize,
    hidden_size: hidden,
    num_hidden_layers: 1,
    num_attention_heads: 1,
    intermediate_size: shape.intermediate,
    hidden_act: 'gelu',
    max_position_embeddings: MAX_POSITIONS,
    type_vocab_size: shape.typeVocabSize,
    layer_norm_eps: shape.layerNormEps,
    pad_token_id: 0,
    ragrpo: { builder: 'tools/tiny-embedder', seed: opts.seed },
  };
  const dir = path.resolve(opts.out);
  await mkdir(path.join(dir, 'onnx'), { recursive: true });
  const files: [string, string | Uint8Array][] = [
    ['config.json', JSON.stringify(config, null, 2) + '\n'],
    ['tokenizer.json', JSON.stringify(tokenizerJson(vocab))],
    ['tokenizer_config.json', JSON.stringify(tokenizerConfigJson(MAX_POSITIONS), null, 2) + '\n'],
    ['onnx/model.onnx', writeModel(bertGraph(shape, opts.seed, OPSET), { producerName: 'ragrpo-tiny-embedder' })],
  ];
  for (const [name, data] of files) await writeFile(path.join(dir, name), data);
  return { dir, hidden, vocabSize: vocab.length, files: files.map(([n]) => n) };
}

function intArg(name: string) {
  return (v: string) => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return Number(v);
  };
}

async function main(): Promise<void> {
  const program = new Command('tiny-embedder')
    .description('Builds a tiny BERT-style sentence embedding model (Hugging Face layout, ONNX) from a seed')
    .requiredOption('--out <dir>', 'output folder, e.g. models/tiny-embedder')
    .option('--seed <n>', 'weight seed', intArg('--seed'), 0)
    .option('--hidden <n>', 'hidden size', intArg('--hidden'), 32)
    .parse();
  const o = program.opts<{ out: string; seed: number; hidden: number }>();
  const info = await buildTinyEmbedder({ out: o.out, seed: o.seed, hidden: o.hidden });
  console.log(`tiny-embedder: hidden ${info.hidden}, vocab ${info.vocabSize}, seed ${o.seed} -> ${info.dir}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: Error) => {
    console.error(`tiny-embedder: ${err.message}`);
    process.exitCode = 1;
  });
}
