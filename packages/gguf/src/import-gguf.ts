/**
 * A GGUF file as a Hugging Face model folder the engine loads: config.json (+ generation_config.json)
 * from the metadata, model.safetensors dequantized to F32 with llama.cpp's q/k permutation undone,
 * and tokenizer.json + tokenizer_config.json (with the chat template) rebuilt from the tokenizer
 * metadata. The folder is assembled next to `out` and renamed into place when complete.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { swapInFolder } from '@ragrpo/contracts';
import { parseModelConfig, validateWeights, type ModelConfig } from '@ragrpo/model';
import { dequantize, ggmlType, SUPPORTED_GGML_TYPES } from './dequantize.ts';
import { GgufError } from './errors.ts';
import { buildConfig } from './gguf-config.ts';
import { buildTokenizer } from './gguf-tokenizer.ts';
import { Metadata, readGguf, type GgufTensor } from './read-gguf.ts';
import { writeF32Safetensors } from './stream-safetensors.ts';
import { hfTensorName, NON_WEIGHT_TENSORS, unpermuteRotary } from './tensor-map.ts';

export interface ImportProgress {
  /** Hugging Face tensor name just written. */
  tensor: string;
  index: number;
  total: number;
}

export interface ImportGgufOptions {
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportGgufResult {
  out: string;
  config: ModelConfig;
  /** GGUF general.architecture. */
  ggufArchitecture: string;
  /** Number of weight tensors written. */
  tensors: number;
  parameters: number;
  /** GGUF tensor types and how many tensors had each. */
  tensorTypes: Record<string, number>;
  tokenizerSize: number;
  hasChatTemplate: boolean;
  files: string[];
  seconds: number;
}

/** Files an import writes; an existing `out` holding anything else is not replaced. */
const MODEL_FILE = /^(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|model\.safetensors(\.index\.json)?|model-\d+-of-\d+\.safetensors)$/;

function readTensor(fd: number, t: GgufTensor, file: string): Float32Array {
  const info = ggmlType(t.type);
  if (!info || t.byteLength === null) throw new GgufError(`${file}: tensor ${t.name} has ggml type ${t.typeName}, which the importer cannot dequantize; supported: ${SUPPORTED_GGML_TYPES.join(', ')}`);
  const buf = Buffer.allocUnsafe(t.byteLength);
  let done = 0;
  while (done < t.byteLength) {
    const n = fs.readSync(fd, buf, done, Math.min(t.byteLength - done, 1 << 30), t.offset + done);
    if (n <= 0) throw new GgufError(`${file}: tensor ${t.name}: unexpected end of file`);
    done += n;
  }
  const numel = t.shape.reduce((a, b) => a * b, 1);
  return dequantize(t.type, buf, numel, `${file}: tensor ${t.name}`);
}

/** Imports `file` (a .gguf) into the folder `out`. */
export async function importGguf(file: string, out: string, opts: ImportGgufOptions = {}): Promise<ImportGgufResult> {
  const started = performance.now();
  const g = await readGguf(file);
  const md = new Metadata(g.file, g.metadata);
  const byName = new Map(g.tensors.map((t) => [t.name, t]));

  const unknown = g.tensors.filter((t) => !NON_WEIGHT_TENSORS.has(t.name) && hfTensorName(t.name) === null).map((t) => t.name);
  if (unknown.length > 0) {
    throw new GgufError(`${g.file}: tensors that are not part of a Llama/Qwen2 decoder: ${unknown.slice(0, 6).join(', ')}${unknown.length > 6 ? ` and ${unknown.length - 6} more` : ''}`);
  }
  const unsupported = g.tensors.filter((t) => !ggmlType(t.type));
  if (unsupported.length > 0) {
    const names = [...new Set(unsupported.map((t) => t.typeName))];
    throw new GgufError(`${g.file}: tensor type${names.length > 1 ? 's' : ''} ${names.join(', ')} (${unsupported[0]!.name}${unsupported.length > 1 ? ` and ${unsupported.length - 1} more tensors` : ''}) cannot be dequantized; supported: ${SUPPORTED_GGML_TYPES.join(', ')}`);
  }

  const fd = fs.openSync(g.file, 'r');
  try {
    const imported = buildConfig(md, byName, (t) => readTensor(fd, t, g.file), path.basename(g.file));
    const tokenizer = buildTokenizer(md, { modelMaxLength: imported.config['max_position_embeddings'] as number });
    const config = parseModelConfig(imported.config, `${g.file} (as config.json)`);
    if (tokenizer.size > config.vocabSize) {
      throw new GgufError(`${g.file}: the tokenizer has ${tokenizer.size} tokens but token_embd.weight only ${config.vocabSize} rows`);
    }

    // Hugging Face name -> GGUF tensor; shapes checked against what the engine expects.
    const weights = new Map<string, GgufTensor>();
    for (const t of g.tensors) {
      const hf = hfTensorName(t.name);
      if (hf) weights.set(hf, t);
    }
    validateWeights(config, new Map([...weights].map(([n, t]) => [n, { dtype: 'F32', shape: t.shape }])), g.file);

    const permute = imported.arch === 'llama';
    const produce = (hf: string): Float32Array => {
      const t = weights.get(hf)!;
      let data = readTensor(fd, t, g.file);
      if (permute && /\.self_attn\.[qk]_proj\.(weight|bias)$/.test(hf)) {
        const heads = hf.includes('.q_proj.') ? imported.numHeads : imported.numKvHeads;
        data = unpermuteRotary(data, t.shape[0]!, heads, `${g.file}: ${t.name}`);
      }
      return data;
    };

    const absOut = path.resolve(out);
    const parent = path.dirname(absOut);
    if (fs.existsSync(absOut)) {
      if (!fs.statSync(absOut).isDirectory()) throw new GgufError(`${absOut}: exists and is not a folder`);
      const foreign = fs.readdirSync(absOut).filter((f) => !MODEL_FILE.test(f));
      if (foreign.length > 0) throw new GgufError(`${absOut}: refusing to replace a folder that holds non-model files (${foreign.slice(0, 5).join(', ')}); choose an empty or new folder`);
    }
    fs.mkdirSync(parent, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(absOut)}.import-`));
    fs.chmodSync(tmp, 0o755);
    const names = [...weights.keys()];
    let index = 0;
    try {
      const json = (name: string, v: unknown) => fs.writeFileSync(path.join(tmp, name), JSON.stringify(v, null, 2) + '\n');
      json('config.json', imported.config);
      json('generation_config.json', imported.generation);
      fs.writeFileSync(path.join(tmp, 'tokenizer.json'), JSON.stringify(tokenizer.tokenizerJson));
      json('tokenizer_config.json', tokenizer.tokenizerConfig);
      writeF32Safetensors(
        path.join(tmp, 'model.safetensors'),
        names.map((n) => ({ name: n, shape: weights.get(n)!.shape })),
        (n) => {
          const data = produce(n);
          opts.onProgress?.({ tensor: n, index: index++, total: names.length });
          return data;
        },
        { format: 'pt', source: `gguf:${path.basename(g.file)}` },
      );
      swapInFolder(tmp, absOut);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    let parameters = 0;
    for (const t of weights.values()) parameters += t.shape.reduce((a, b) => a * b, 1);
    return {
      out: absOut,
      config,
      ggufArchitecture: imported.arch,
      tensors: weights.size,
      parameters,
      tensorTypes: (imported.config['ragrpo'] as { tensor_types: Record<string, number> }).tensor_types,
      tokenizerSize: tokenizer.size,
      hasChatTemplate: 'chat_template' in tokenizer.tokenizerConfig,
      files: ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'],
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    fs.closeSync(fd);
  }
}
