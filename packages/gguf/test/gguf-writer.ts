/**
 * Test helper: a minimal GGUF v3 writer and a Hugging Face folder -> GGUF converter doing what
 * llama.cpp's convert_hf_to_gguf.py does for Llama/Qwen2 (tensor names, q/k row permutation for
 * Llama, tokenizer metadata), so the importer can be tested on tiny models without downloads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readModelFolder } from '@ragrpo/model';

export type KvValue =
  | { t: 'u32' | 'i32' | 'f32' | 'u64'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'str'; v: string }
  | { t: 'arr-str'; v: string[] }
  | { t: 'arr-i32' | 'arr-f32'; v: number[] };

export interface RawTensor {
  name: string;
  /** PyTorch order (outermost first); written as ne[] reversed. */
  shape: number[];
  type: number;
  data: Uint8Array;
}

const ALIGN = 32;

class Out {
  chunks: Buffer[] = [];
  size = 0;
  push(b: Buffer): void { this.chunks.push(b); this.size += b.length; }
  u32(v: number): void { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); this.push(b); }
  i32(v: number): void { const b = Buffer.alloc(4); b.writeInt32LE(v); this.push(b); }
  u64(v: number): void { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.push(b); }
  f32(v: number): void { const b = Buffer.alloc(4); b.writeFloatLE(v); this.push(b); }
  str(s: string): void { const b = Buffer.from(s, 'utf8'); this.u64(b.length); this.push(b); }
}

const TYPE_ID = { u32: 4, i32: 5, f32: 6, bool: 7, str: 8, arr: 9, u64: 10 } as const;

export function writeGguf(file: string, kv: Record<string, KvValue>, tensors: RawTensor[]): void {
  const o = new Out();
  o.push(Buffer.from('GGUF', 'latin1'));
  o.u32(3);
  o.u64(tensors.length);
  o.u64(Object.keys(kv).length);
  for (const [key, val] of Object.entries(kv)) {
    o.str(key);
    switch (val.t) {
      case 'u32': o.u32(TYPE_ID.u32); o.u32(val.v); break;
      case 'i32': o.u32(TYPE_ID.i32); o.i32(val.v); break;
      case 'f32': o.u32(TYPE_ID.f32); o.f32(val.v); break;
      case 'u64': o.u32(TYPE_ID.u64); o.u64(val.v); break;
      case 'bool': o.u32(TYPE_ID.bool); o.push(Buffer.from([val.v ? 1 : 0])); break;
      case 'str': o.u32(TYPE_ID.str); o.str(val.v); break;
      case 'arr-str': o.u32(TYPE_ID.arr); o.u32(TYPE_ID.str); o.u64(val.v.length); for (const s of val.v) o.str(s); break;
      case 'arr-i32': o.u32(TYPE_ID.arr); o.u32(TYPE_ID.i32); o.u64(val.v.length); for (const x of val.v) o.i32(x); break;
      case 'arr-f32': o.u32(TYPE_ID.arr); o.u32(TYPE_ID.f32); o.u64(val.v.length); for (const x of val.v) o.f32(x); break;
    }
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    offsets.push(offset);
    offset += Math.ceil(t.data.length / ALIGN) * ALIGN;
  }
  tensors.forEach((t, i) => {
    o.str(t.name);
    o.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) o.u64(d);
    o.u32(t.type);
    o.u64(offsets[i]!);
  });
  o.push(Buffer.alloc((ALIGN - (o.size % ALIGN)) % ALIGN));
  tensors.forEach((t) => {
    o.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    o.push(Buffer.alloc(Math.ceil(t.data.length / ALIGN) * ALIGN - t.data.length));
  });
  fs.writeFileSync(file, Buffer.concat(o.chunks));
}

// ---- encoders (tests only) --------------------------------------------------------------------------

export function f32Bytes(x: Float32Array): Uint8Array {
  return new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
}

/** float32 -> float16 bits, round to nearest even (normal range; tiny test weights only). */
export function toHalfBits(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  if (exp >= 31) return sign | 0x7c00;
  let h = (exp << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

export function f16Bytes(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length * 2);
  for (let i = 0; i < x.length; i++) {
    const h = toHalfBits(x[i]!);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >> 8;
  }
  return out;
}

/** Q8_0 as ggml's quantize_row_q8_0_ref: d = amax / 127 (stored as f16), q = round(x / d). */
export function q8_0Bytes(x: Float32Array): Uint8Array {
  const n = x.length / 32;
  const out = new Uint8Array(n * 34);
  for (let b = 0; b < n; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]!));
    const d = amax / 127;
    const id = d ? 1 / d : 0;
    const h = toHalfBits(d);
    out[b * 34] = h & 0xff;
    out[b * 34 + 1] = h >> 8;
    for (let j = 0; j < 32; j++) out[b * 34 + 2 + j] = Math.round(x[b * 32 + j]! * id) & 0xff;
  }
  return out;
}

// ---- Hugging Face folder -> GGUF ------------------------------------------------------------------------

const TO_GGUF: [RegExp, string][] = [
  [/^model\.embed_tokens\.weight$/, 'token_embd.weight'],
  [/^model\.norm\.weight$/, 'output_norm.weight'],
  [/^lm_head\.weight$/, 'output.weight'],
  [/^model\.layers\.(\d+)\.input_layernorm\.weight$/, 'blk.$1.attn_norm.weight'],
  [/^model\.layers\.(\d+)\.post_attention_layernorm\.weight$/, 'blk.$1.ffn_norm.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.q_proj\.(weight|bias)$/, 'blk.$1.attn_q.$2'],
  [/^model\.layers\.(\d+)\.self_attn\.k_proj\.(weight|bias)$/, 'blk.$1.attn_k.$2'],
  [/^model\.layers\.(\d+)\.self_attn\.v_proj\.(weight|bias)$/, 'blk.$1.attn_v.$2'],
  [/^model\.layers\.(\d+)\.self_attn\.o_proj\.(weight|bias)$/, 'blk.$1.attn_output.$2'],
  [/^model\.layers\.(\d+)\.mlp\.gate_proj\.weight$/, 'blk.$1.ffn_gate.weight'],
  [/^model\.layers\.(\d+)\.mlp\.up_proj\.weight$/, 'blk.$1.ffn_up.weight'],
  [/^model\.layers\.(\d+)\.mlp\.down_proj\.weight$/, 'blk.$1.ffn_down.weight'],
];

function ggufName(hf: string): string {
  for (const [re, to] of TO_GGUF) if (re.test(hf)) return hf.replace(re, to);
  throw new Error(`no GGUF name for ${hf}`);
}

/** convert_hf_to_gguf.py's LlamaModel.permute: per head, interleave the rows of the two rotary halves. */
export function permuteRotary(data: Float32Array, rows: number, heads: number): Float32Array {
  const cols = data.length / rows;
  const hd = rows / heads;
  const half = hd / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++) {
    for (let s = 0; s < 2; s++) {
      for (let i = 0; i < half; i++) {
        const src = (h * hd + s * half + i) * cols;
        out.set(data.subarray(src, src + cols), (h * hd + 2 * i + s) * cols);
      }
    }
  }
  return out;
}

export interface ConvertOptions {
  /** ggml type per GGUF tensor name: 0 F32 (default), 1 F16, 8 Q8_0. */
  typeOf?: (ggufName: string, shape: number[]) => number;
  /** Metadata overrides / extra keys (null removes a key). */
  kv?: Record<string, KvValue | null>;
  /** Extra raw tensors appended. */
  extraTensors?: RawTensor[];
  /** Pre-tokenizer name written to tokenizer.ggml.pre (default gpt-2, the scratch tokenizer's). */
  pre?: string;
}

/** Writes `folder` (a Llama or Qwen2 Hugging Face folder) as a GGUF file the way llama.cpp would. */
export async function folderToGguf(folder: string, file: string, opts: ConvertOptions = {}): Promise<void> {
  const mf = await readModelFolder(folder, { tokenizer: false });
  const c = mf.config;
  const arch = c.modelType === 'qwen2' ? 'qwen2' : 'llama';
  const tok = JSON.parse(fs.readFileSync(path.join(folder, 'tokenizer.json'), 'utf8')) as {
    model: { vocab: Record<string, number>; merges: (string | [string, string])[] };
    added_tokens: { id: number; content: string; special: boolean }[];
  };
  const tcfg = JSON.parse(fs.readFileSync(path.join(folder, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  const tokens: string[] = new Array(c.vocabSize);
  const types: number[] = new Array(c.vocabSize).fill(1);
  for (const [t, id] of Object.entries(tok.model.vocab)) tokens[id] = t;
  for (const a of tok.added_tokens) { tokens[a.id] = a.content; types[a.id] = a.special ? 3 : 4; }
  for (let i = 0; i < tokens.length; i++) if (tokens[i] === undefined) { tokens[i] = `[PAD${i}]`; types[i] = 4; }
  const merges = tok.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  const idOf = (content: unknown) => (typeof content === 'string' ? tokens.indexOf(content) : -1);

  const kv: Record<string, KvValue> = {
    'general.architecture': { t: 'str', v: arch },
    'general.name': { t: 'str', v: 'tiny test model' },
    [`${arch}.block_count`]: { t: 'u32', v: c.numLayers },
    [`${arch}.context_length`]: { t: 'u32', v: c.maxPositionEmbeddings },
    [`${arch}.embedding_length`]: { t: 'u32', v: c.hiddenSize },
    [`${arch}.feed_forward_length`]: { t: 'u32', v: c.intermediateSize },
    [`${arch}.attention.head_count`]: { t: 'u32', v: c.numHeads },
    [`${arch}.attention.head_count_kv`]: { t: 'u32', v: c.numKvHeads },
    [`${arch}.rope.freq_base`]: { t: 'f32', v: c.ropeTheta },
    [`${arch}.attention.layer_norm_rms_epsilon`]: { t: 'f32', v: c.rmsNormEps },
    [`${arch}.rope.dimension_count`]: { t: 'u32', v: c.headDim },
    'tokenizer.ggml.model': { t: 'str', v: 'gpt2' },
    'tokenizer.ggml.pre': { t: 'str', v: opts.pre ?? 'gpt-2' },
    'tokenizer.ggml.tokens': { t: 'arr-str', v: tokens },
    'tokenizer.ggml.token_type': { t: 'arr-i32', v: types },
    'tokenizer.ggml.merges': { t: 'arr-str', v: merges },
    'tokenizer.ggml.add_bos_token': { t: 'bool', v: false },
  };
  // Special ids as config.json has them (llama.cpp's SpecialVocab reads them from there too).
  const eos = c.eosTokenIds[0] ?? idOf(tcfg['eos_token']);
  if (c.bosTokenId !== null) kv['tokenizer.ggml.bos_token_id'] = { t: 'u32', v: c.bosTokenId };
  if (eos >= 0) kv['tokenizer.ggml.eos_token_id'] = { t: 'u32', v: eos };
  if (c.padTokenId !== null) kv['tokenizer.ggml.padding_token_id'] = { t: 'u32', v: c.padTokenId };
  if (typeof tcfg['chat_template'] === 'string') kv['tokenizer.chat_template'] = { t: 'str', v: tcfg['chat_template'] };
  for (const [k, v] of Object.entries(opts.kv ?? {})) {
    if (v === null) delete kv[k];
    else kv[k] = v;
  }

  const tensors: RawTensor[] = [];
  for (const [name, w] of [...mf.weights].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (name === 'lm_head.weight' && c.tieWordEmbeddings) continue;
    let data: Float32Array = Float32Array.from(w.data as ArrayLike<number>);
    if (arch === 'llama' && /\.self_attn\.[qk]_proj\./.test(name)) {
      data = permuteRotary(data, w.shape[0]!, name.includes('q_proj') ? c.numHeads : c.numKvHeads);
    }
    const g = ggufName(name);
    const type = opts.typeOf?.(g, w.shape) ?? 0;
    const bytes = type === 0 ? f32Bytes(data) : type === 1 ? f16Bytes(data) : type === 8 ? q8_0Bytes(data) : null;
    if (!bytes) throw new Error(`test writer: ggml type ${type} not implemented`);
    tensors.push({ name: g, shape: w.shape, type, data: bytes });
  }
  tensors.push(...(opts.extraTensors ?? []));
  writeGguf(file, kv, tensors);
}
