/**
 * safetensors reader/writer (https://github.com/huggingface/safetensors#format).
 *
 * Layout: 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {str: str} }`,
 * then the raw little-endian tensor bytes; offsets are relative to the end of the header.
 *
 * Hand-written: the format is tiny (length, JSON header, raw bytes) and the npm `safetensors` package is a single
 * 0.0.1 release without a repository (see README.safetensors-notes.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** dtypes this module decodes. F16/BF16 are widened to Float32Array on read. */
export const SAFETENSORS_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'] as const;
export type SafetensorsDType = (typeof SAFETENSORS_DTYPES)[number];

export type TensorData =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

/** One tensor as read from / written to a file. `dtype` is the dtype stored in the file. */
export interface SafeTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsHeaderEntry {
  dtype: SafetensorsDType;
  shape: number[];
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  tensors: Map<string, SafetensorsHeaderEntry>;
  metadata: Record<string, string> | null;
  /** Absolute byte offset of the data section in the file (8 + header length). */
  dataStart: number;
}

const ITEM_SIZE: Record<SafetensorsDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** Safety bound from the reference implementation: headers above 100 MB are refused. */
const MAX_HEADER_BYTES = 100_000_000;

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

function fail(file: string, msg: string): never {
  throw new SafetensorsError(`${file}: ${msg}`);
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Half-precision conversions (IEEE 754 binary16 and bfloat16), round-to-nearest-even on encode.

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** binary16 bits -> number (exact: every half value is representable in float32). */
export function f16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero / subnormal
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits -> number: the upper 16 bits of a float32. */
export function bf16BitsToNumber(b: number): number {
  u32Scratch[0] = (b & 0xffff) << 16;
  return f32Scratch[0]!;
}

/** number -> binary16 bits, round-to-nearest-even; overflow gives +-Inf. */
export function numberToF16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    // subnormal half (or underflow to zero)
    if (e < -10) return sign;
    mant |= 0x800000; // implicit leading bit
    const shift = 14 - e; // bits to drop: 13 for normal + (1 - e)
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && (m & 1))) m += 1;
    return sign | m; // a carry into bit 10 correctly yields the smallest normal
  }
  const rest = mant & 0x1fff;
  let m = mant >>> 13;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
    m += 1;
    if (m === 0x400) {
      m = 0;
      e += 1;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** number -> bfloat16 bits, round-to-nearest-even on the float32 value. */
export function numberToBf16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff)) return ((x >>> 16) | 0x40) & 0xffff; // quiet NaN
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

// ---------------------------------------------------------------------------------------------
// Header parsing and validation

/** Parses and validates the JSON header. `fileSize` is the total byte length of the file. */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (e) {
    fail(file, `bad header: not valid UTF-8 JSON (${(e as Error).message}); the file is not a safetensors file or is corrupt`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    fail(file, 'bad header: the JSON header must be an object of tensor entries');
  }
  const dataStart = 8 + headerBytes.length;
  const dataSize = fileSize - dataStart;
  const tensors = new Map<string, SafetensorsHeaderEntry>();
  let metadata: Record<string, string> | null = null;
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        fail(file, 'bad header: __metadata__ must be an object of string values');
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(file, `bad header: __metadata__.${k} must be a string, found ${JSON.stringify(v)}`);
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (entry === null || typeof entry !== 'object') fail(file, `tensor "${name}": bad header entry (expected an object)`);
    if (typeof entry.dtype !== 'string' || !(SAFETENSORS_DTYPES as readonly string[]).includes(entry.dtype)) {
      fail(
        file,
        `tensor "${name}": unknown dtype ${JSON.stringify(entry.dtype)}; supported: ${SAFETENSORS_DTYPES.join(', ')}`,
      );
    }
    const dtype = entry.dtype as SafetensorsDType;
    if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(file, `tensor "${name}": bad shape ${JSON.stringify(entry.shape)} (expected an array of non-negative integers)`);
    }
    const shape = entry.shape as number[];
    const offs = entry.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(file, `tensor "${name}": bad data_offsets ${JSON.stringify(offs)} (expected [begin, end])`);
    }
    const [begin, end] = offs as [number, number];
    if (begin > end || end > dataSize) {
      fail(
        file,
        `tensor "${name}": data_offsets [${begin}, ${end}] out of range (data section is ${dataSize} bytes); the file is truncated or corrupt`,
      );
    }
    const expectedBytes = numel(shape) * ITEM_SIZE[dtype];
    if (end - begin !== expectedBytes) {
      fail(
        file,
        `tensor "${name}": shape [${shape.join(', ')}] of ${dtype} needs ${expectedBytes} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    }
    tensors.set(name, { dtype, shape: [...shape], dataOffsets: [begin, end] });
  }
  // Like the reference implementation: tensors must tile the data section without overlaps or holes.
  const spans = [...tensors.entries()].sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]);
  let cursor = 0;
  for (const [name, e] of spans) {
    const [b, en] = e.dataOffsets;
    if (b < cursor) fail(file, `tensor "${name}": data_offsets [${b}, ${en}] overlap the previous tensor (ends at ${cursor})`);
    if (b > cursor) fail(file, `tensor "${name}": data_offsets [${b}, ${en}] leave a gap after byte ${cursor} of the data section`);
    cursor = en;
  }
  if (cursor !== dataSize) fail(file, `bad header: tensors cover ${cursor} bytes but the data section is ${dataSize} bytes`);
  return { tensors, metadata, dataStart };
}

/** Decodes one tensor's raw little-endian bytes. F16/BF16 become Float32Array. */
export function decodeTensorBytes(bytes: Uint8Array, dtype: SafetensorsDType): TensorData {
  const n = bytes.length / ITEM_SIZE[dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = f16BitsToNumber(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      const u32 = new Uint32Array(n);
      for (let i = 0; i < n; i++) u32[i] = view.getUint16(i * 2, true) << 16;
      return new Float32Array(u32.buffer);
    }
    case 'I64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getBigInt64(i * 8, true);
      return out;
    }
    case 'I32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    }
    case 'I16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    }
    case 'I8':
      return new Int8Array(bytes.slice().buffer);
    case 'U8':
    case 'BOOL':
      return bytes.slice();
  }
}

function readHeaderFromFd(fd: number, fileSize: number, file: string): SafetensorsHeader {
  if (fileSize < 8) fail(file, `bad header: file is ${fileSize} bytes, too short for the 8-byte header length`);
  const lenBuf = Buffer.alloc(8);
  fs.readSync(fd, lenBuf, 0, 8, 0);
  const headerLen = lenBuf.readBigUInt64LE(0);
  if (headerLen > BigInt(Math.min(MAX_HEADER_BYTES, fileSize - 8))) {
    fail(file, `bad header: header length ${headerLen} exceeds the file size (${fileSize} bytes) or the 100 MB limit`);
  }
  const header = Buffer.alloc(Number(headerLen));
  fs.readSync(fd, header, 0, header.length, 8);
  return parseSafetensorsHeader(header, fileSize, file);
}

/** Reads only the header (names, dtypes, shapes, offsets, metadata). */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  const fd = openOrFail(file);
  try {
    return readHeaderFromFd(fd, fs.fstatSync(fd).size, file);
  } finally {
    fs.closeSync(fd);
  }
}

function openOrFail(file: string): number {
  try {
    return fs.openSync(file, 'r');
  } catch (e) {
    throw new SafetensorsError(`${file}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * Reads a .safetensors file into a Map (header order). Tensors are read one at a time, so a file
 * larger than a single Buffer can be read. `only` restricts reading to the named tensors.
 */
export function readSafetensors(file: string, opts: { only?: Iterable<string> } = {}): Map<string, SafeTensor> {
  const fd = openOrFail(file);
  try {
    const header = readHeaderFromFd(fd, fs.fstatSync(fd).size, file);
    const wanted = opts.only ? new Set(opts.only) : null;
    const out = new Map<string, SafeTensor>();
    for (const [name, e] of header.tensors) {
      if (wanted && !wanted.has(name)) continue;
      const [b, en] = e.dataOffsets;
      const buf = Buffer.alloc(en - b);
      let done = 0;
      while (done < buf.length) {
        const got = fs.readSync(fd, buf, done, buf.length - done, header.dataStart + b + done);
        if (got === 0) fail(file, `tensor "${name}": unexpected end of file`);
        done += got;
      }
      out.set(name, { dtype: e.dtype, shape: e.shape, data: decodeTensorBytes(buf, e.dtype) });
    }
    if (wanted) {
      for (const name of wanted) if (!out.has(name)) fail(file, `tensor "${name}" is not in this file`);
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

/** Parses an in-memory safetensors file. `label` names it in errors. */
export function decodeSafetensors(bytes: Uint8Array, label = '<buffer>'): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> | null } {
  if (bytes.length < 8) fail(label, `bad header: file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLen > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    fail(label, `bad header: header length ${headerLen} exceeds the file size (${bytes.length} bytes) or the 100 MB limit`);
  }
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + Number(headerLen)), bytes.length, label);
  const tensors = new Map<string, SafeTensor>();
  for (const [name, e] of header.tensors) {
    const raw = bytes.subarray(header.dataStart + e.dataOffsets[0], header.dataStart + e.dataOffsets[1]);
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data: decodeTensorBytes(raw, e.dtype) });
  }
  return { tensors, metadata: header.metadata };
}

// ---------------------------------------------------------------------------------------------
// Sharded checkpoints: model.safetensors.index.json { metadata?, weight_map: { tensor: shard file } }

export interface SafetensorsIndex {
  metadata?: Record<string, unknown>;
  weight_map: Record<string, string>;
}

/** Reads every shard listed in a `model.safetensors.index.json` and checks each tensor is where the index says. */
export function readShardedSafetensors(indexFile: string): Map<string, SafeTensor> {
  let index: SafetensorsIndex;
  try {
    index = JSON.parse(fs.readFileSync(indexFile, 'utf8')) as SafetensorsIndex;
  } catch (e) {
    throw new SafetensorsError(`${indexFile}: cannot read the shard index (${(e as Error).message})`);
  }
  if (!index || typeof index.weight_map !== 'object' || index.weight_map === null) {
    throw new SafetensorsError(`${indexFile}: missing "weight_map" object (tensor name -> shard file)`);
  }
  const dir = path.dirname(indexFile);
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(index.weight_map)) {
    if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\')) {
      throw new SafetensorsError(`${indexFile}: weight_map["${name}"] must be a shard file name, found ${JSON.stringify(shard)}`);
    }
    const list = byShard.get(shard) ?? [];
    list.push(name);
    byShard.set(shard, list);
  }
  const out = new Map<string, SafeTensor>();
  for (const shard of [...byShard.keys()].sort()) {
    const shardPath = path.join(dir, shard);
    if (!fs.existsSync(shardPath)) {
      throw new SafetensorsError(`${indexFile}: shard ${shard} listed in weight_map is missing from ${dir}`);
    }
    const tensors = readSafetensors(shardPath);
    for (const name of byShard.get(shard)!) {
      const t = tensors.get(name);
      if (!t) throw new SafetensorsError(`${shardPath}: tensor "${name}" listed in ${path.basename(indexFile)} is not in this shard`);
      out.set(name, t);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Input for writing: data is converted to `dtype` (F16/BF16 from float arrays, rounded to nearest even). */
export interface WritableTensor {
  dtype?: SafetensorsDType; // default: inferred from data (Float32Array -> F32, Float64Array -> F64, BigInt64Array -> I64, ...)
  shape: readonly number[];
  data: TensorData | number[];
}

function inferDType(data: TensorData | number[]): SafetensorsDType {
  if (data instanceof Float32Array || Array.isArray(data)) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Int16Array) return 'I16';
  if (data instanceof Int8Array) return 'I8';
  return 'U8';
}

function encodeTensor(name: string, t: WritableTensor, dtype: SafetensorsDType): Uint8Array {
  const n = numel(t.shape);
  if (t.data.length !== n) {
    throw new SafetensorsError(`tensor "${name}": shape [${t.shape.join(', ')}] has ${n} elements but data has ${t.data.length}`);
  }
  const out = new Uint8Array(n * ITEM_SIZE[dtype]);
  const view = new DataView(out.buffer);
  const d = t.data;
  const isBig = d instanceof BigInt64Array;
  const num = (i: number): number => (isBig ? Number((d as BigInt64Array)[i]) : (d as ArrayLike<number>)[i]!);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) view.setFloat32(i * 4, num(i), true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) view.setFloat64(i * 8, num(i), true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) view.setUint16(i * 2, numberToF16Bits(num(i)), true);
      break;
    case 'BF16':
      for (let i = 0; i < n; i++) view.setUint16(i * 2, numberToBf16Bits(num(i)), true);
      break;
    case 'I64':
      for (let i = 0; i < n; i++) view.setBigInt64(i * 8, isBig ? (d as BigInt64Array)[i]! : BigInt(Math.trunc(num(i))), true);
      break;
    case 'I32':
      for (let i = 0; i < n; i++) view.setInt32(i * 4, num(i), true);
      break;
    case 'I16':
      for (let i = 0; i < n; i++) view.setInt16(i * 2, num(i), true);
      break;
    case 'I8':
      for (let i = 0; i < n; i++) view.setInt8(i, num(i));
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < n; i++) view.setUint8(i, num(i));
      break;
  }
  return out;
}

/**
 * Serialises tensors: keys sorted, data laid out in key order, header padded with spaces to a
 * multiple of 8 bytes (so every tensor starts 8-byte aligned, as the reference writer does).
 */
export function encodeSafetensors(
  tensors: Map<string, WritableTensor> | Record<string, WritableTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`__metadata__.${k} must be a string, found ${JSON.stringify(v)}`);
    }
    header['__metadata__'] = metadata;
  }
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new SafetensorsError('"__metadata__" is reserved and cannot be a tensor name');
    const dtype = t.dtype ?? inferDType(t.data);
    if (!(SAFETENSORS_DTYPES as readonly string[]).includes(dtype)) {
      throw new SafetensorsError(`tensor "${name}": unknown dtype ${dtype}; supported: ${SAFETENSORS_DTYPES.join(', ')}`);
    }
    const blob = encodeTensor(name, t, dtype);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + blob.length] };
    blobs.push(blob);
    offset += blob.length;
  }
  let headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(headerBytes);
    headerBytes = p;
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const b of blobs) {
    out.set(b, pos);
    pos += b.length;
  }
  return out;
}

/** Writes a .safetensors file (see encodeSafetensors). */
export function writeSafetensors(
  file: string,
  tensors: Map<string, WritableTensor> | Record<string, WritableTensor>,
  metadata?: Record<string, string>,
): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, encodeSafetensors(tensors, metadata));
}

/**
 * Writes a sharded checkpoint the way Hugging Face does: `model-00001-of-0000N.safetensors` files
 * (tensors in sorted order, a new shard when `maxShardBytes` would be exceeded) plus
 * `model.safetensors.index.json`. Returns the shard file names.
 */
export function writeShardedSafetensors(
  folder: string,
  tensors: Map<string, WritableTensor> | Record<string, WritableTensor>,
  opts: { maxShardBytes: number; metadata?: Record<string, string>; prefix?: string },
): string[] {
  const prefix = opts.prefix ?? 'model';
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const groups: [string, WritableTensor][][] = [];
  let current: [string, WritableTensor][] = [];
  let bytes = 0;
  let total = 0;
  for (const e of entries) {
    const size = numel(e[1].shape) * ITEM_SIZE[e[1].dtype ?? inferDType(e[1].data)];
    total += size;
    if (current.length > 0 && bytes + size > opts.maxShardBytes) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  const pad = (i: number): string => String(i).padStart(5, '0');
  const weightMap: Record<string, string> = {};
  const names: string[] = [];
  groups.forEach((g, i) => {
    const shard = `${prefix}-${pad(i + 1)}-of-${pad(groups.length)}.safetensors`;
    names.push(shard);
    writeSafetensors(path.join(folder, shard), new Map(g), opts.metadata ?? { format: 'pt' });
    for (const [name] of g) weightMap[name] = shard;
  });
  fs.writeFileSync(
    path.join(folder, `${prefix}.safetensors.index.json`),
    JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n',
  );
  return names;
}
