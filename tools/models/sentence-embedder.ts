/**
 * A sentence-transformers BERT checkpoint (config.json, model.safetensors, tokenizer files,
 * modules.json with Transformer -> Pooling -> Normalize) as a folder transformers.js loads:
 * onnx/model.onnx written by the project's own graph code (bert-onnx.ts) from the safetensors
 * weights, the tokenizer as is, and tokenizer_config.json's model_max_length set to the
 * checkpoint's max_seq_length, so long texts are cut where sentence-transformers cuts them.
 * Pooling and normalisation are what @ragrpo/embed applies (mean + L2 for all-MiniLM-L6-v2).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeModel } from '@ragrpo/graph';
import { readSafetensors } from '@ragrpo/model';
import { bertConfig, bertOnnxGraph } from './bert-onnx.ts';

export interface SentenceEmbedderInfo {
  out: string;
  layers: number;
  hidden: number;
  maxSeqLength: number;
  pooling: 'mean' | 'cls';
  normalize: boolean;
  onnxBytes: number;
  seconds: number;
}

const readJson = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;

export function buildSentenceEmbedder(src: string, out: string): SentenceEmbedderInfo {
  const started = performance.now();
  const need = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
  const missing = need.filter((f) => !fs.existsSync(path.join(src, f)));
  if (missing.length > 0) throw new Error(`${src}: missing ${missing.join(', ')}`);
  const cfg = readJson(path.join(src, 'config.json'));
  const c = bertConfig(cfg, path.join(src, 'config.json'));

  // sentence-transformers modules: pooling mode and whether a Normalize module follows.
  let pooling: 'mean' | 'cls' = 'mean';
  let normalize = false;
  const modulesFile = path.join(src, 'modules.json');
  const modules = fs.existsSync(modulesFile) ? (JSON.parse(fs.readFileSync(modulesFile, 'utf8')) as { path: string; type: string }[]) : [];
  for (const m of modules) {
    if (m.type.endsWith('.Normalize')) normalize = true;
    if (m.type.endsWith('.Pooling')) {
      const p = readJson(path.join(src, m.path, 'config.json'));
      if (p['pooling_mode_cls_token']) pooling = 'cls';
      else if (!p['pooling_mode_mean_tokens']) throw new Error(`${src}: pooling ${JSON.stringify(p)} (only mean or cls tokens)`);
    }
  }
  const stCfgFile = path.join(src, 'sentence_bert_config.json');
  const maxSeqLength = fs.existsSync(stCfgFile) ? Number(readJson(stCfgFile)['max_seq_length'] ?? c.maxPositions) : c.maxPositions;

  const weights = readSafetensors(path.join(src, 'model.safetensors'));
  const onnx = writeModel(bertOnnxGraph(c, weights as never), { producerName: 'ragrpo-tools-models' });

  const tokCfg = { ...readJson(path.join(src, 'tokenizer_config.json')), model_max_length: maxSeqLength };
  const files: [string, string | Uint8Array][] = [
    ['config.json', JSON.stringify(cfg, null, 2) + '\n'],
    ['tokenizer.json', fs.readFileSync(path.join(src, 'tokenizer.json'))],
    ['tokenizer_config.json', JSON.stringify(tokCfg, null, 2) + '\n'],
    ['onnx/model.onnx', onnx],
  ];
  for (const extra of ['special_tokens_map.json', 'vocab.txt', 'modules.json', 'sentence_bert_config.json', 'config_sentence_transformers.json', '1_Pooling/config.json']) {
    if (fs.existsSync(path.join(src, extra))) files.push([extra, fs.readFileSync(path.join(src, extra))]);
  }

  const abs = path.resolve(out);
  if (fs.existsSync(abs) && fs.readdirSync(abs).length > 0 && !fs.existsSync(path.join(abs, 'config.json'))) {
    throw new Error(`${abs}: exists and is not a model folder; refusing to replace it`);
  }
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(path.dirname(abs), `.${path.basename(abs)}.build-`));
  fs.chmodSync(tmp, 0o755);
  try {
    for (const [name, data] of files) {
      fs.mkdirSync(path.dirname(path.join(tmp, name)), { recursive: true });
      fs.writeFileSync(path.join(tmp, name), data);
    }
    fs.rmSync(abs, { recursive: true, force: true });
    fs.renameSync(tmp, abs);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { out: abs, layers: c.layers, hidden: c.hidden, maxSeqLength, pooling, normalize, onnxBytes: onnx.length, seconds: (performance.now() - started) / 1000 };
}
