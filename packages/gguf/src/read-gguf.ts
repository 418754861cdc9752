/**
 * The GGUF header (metadata key/values and tensor infos) through @huggingface/gguf, reshaped into
 * what the importer needs: plain metadata values, tensor shapes in PyTorch order, and absolute
 * byte ranges of each tensor's data in the file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gguf, GGMLQuantizationType } from '@huggingface/gguf';
import { GgufError } from './errors.ts';
import { ggmlType, tensorByteLength } from './dequantize.ts';

export type GgufValue = string | number | boolean | bigint | GgufValue[];

export interface GgufTensor {
  name: string;
  /** PyTorch order (outermost first): GGUF's ne[] reversed. A GGUF [in, out] weight is [out, in] here. */
  shape: number[];
  /** ggml type id (GGMLQuantizationType). */
  type: number;
  /** ggml type name, e.g. Q4_K; `type<N>` when unknown. */
  typeName: string;
  /** Absolute offset of the tensor data in the file. */
  offset: number;
  /** Bytes of data; null for a type whose block size this package does not know. */
  byteLength: number | null;
}

export interface GgufFile {
  file: string;
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensor[];
  fileSize: number;
}

export function ggmlTypeName(type: number): string {
  const n = (GGMLQuantizationType as unknown as Record<number, string>)[type];
  return typeof n === 'string' ? n : `type${type}`;
}

/** Reads and checks the header of a GGUF file (v2 or v3, little-endian). Tensor data is not read. */
export async function readGguf(file: string): Promise<GgufFile> {
  const abs = path.resolve(file);
  let fd: number;
  try {
    fd = fs.openSync(abs, 'r');
  } catch (e) {
    throw new GgufError(`${abs}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let fileSize: number;
  try {
    fileSize = fs.fstatSync(fd).size;
    const head = Buffer.alloc(8);
    const n = fs.readSync(fd, head, 0, 8, 0);
    if (n < 8 || head.toString('latin1', 0, 4) !== 'GGUF') {
      throw new GgufError(`${abs}: not a GGUF file (the first bytes are not the "GGUF" magic)`);
    }
    const version = head.readUInt32LE(4);
    if (version !== 2 && version !== 3) {
      throw new GgufError(`${abs}: GGUF version ${version} (big-endian or unknown); this importer reads little-endian GGUF v2 and v3`);
    }
  } finally {
    fs.closeSync(fd);
  }

  let parsed: Awaited<ReturnType<typeof gguf>>;
  try {
    parsed = await gguf(abs, { allowLocalFile: true });
  } catch (e) {
    throw new GgufError(`${abs}: cannot parse the GGUF header (${(e as Error).message})`);
  }
  if (!parsed.littleEndian) throw new GgufError(`${abs}: big-endian GGUF is not supported`);
  const metadata = new Map<string, GgufValue>();
  for (const [k, v] of Object.entries(parsed.metadata as Record<string, unknown>)) metadata.set(k, v as GgufValue);
  const dataStart = Number(parsed.tensorDataOffset);
  const tensors = parsed.tensorInfos.map((t): GgufTensor => {
    const ne = t.shape.map((d) => Number(d));
    const info = ggmlType(t.dtype);
    const numel = ne.reduce((a, b) => a * b, 1);
    return {
      name: t.name,
      shape: [...ne].reverse(),
      type: t.dtype,
      typeName: ggmlTypeName(t.dtype),
      offset: dataStart + Number(t.offset),
      byteLength: info ? tensorByteLength(info, numel, ne[0] ?? 1) : null,
    };
  });
  for (const t of tensors) {
    if (t.byteLength !== null && t.offset + t.byteLength > fileSize) {
      throw new GgufError(`${abs}: tensor ${t.name} (${t.typeName} [${t.shape.join(', ')}]) ends at byte ${t.offset + t.byteLength}, past the end of the file (${fileSize} bytes): truncated download?`);
    }
  }
  return { file: abs, version: Number(parsed.metadata.version), metadata, tensors, fileSize };
}

/** Metadata accessors that name the key and file in their errors. */
export class Metadata {
  constructor(readonly file: string, readonly kv: Map<string, GgufValue>) {}

  has(key: string): boolean {
    return this.kv.has(key);
  }

  raw(key: string): GgufValue | undefined {
    return this.kv.get(key);
  }

  num(key: string): number;
  num(key: string, fallback: number): number;
  num(key: string, fallback: null): number | null;
  num(key: string, fallback?: number | null): number | null {
    const v = this.kv.get(key);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      throw new GgufError(`${this.file}: metadata key ${key} is missing`);
    }
    if (typeof v === 'bigint') return Number(v);
    if (typeof v !== 'number') throw new GgufError(`${this.file}: metadata key ${key} should be a number, found ${typeof v}`);
    return v;
  }

  str(key: string): string;
  str(key: string, fallback: string | null): string | null;
  str(key: string, fallback?: string | null): string | null {
    const v = this.kv.get(key);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      throw new GgufError(`${this.file}: metadata key ${key} is missing`);
    }
    if (typeof v !== 'string') throw new GgufError(`${this.file}: metadata key ${key} should be a string, found ${typeof v}`);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.kv.get(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw new GgufError(`${this.file}: metadata key ${key} should be a boolean, found ${typeof v}`);
    return v;
  }

  strings(key: string): string[] | null {
    const v = this.kv.get(key);
    if (v === undefined) return null;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new GgufError(`${this.file}: metadata key ${key} should be an array of strings`);
    return v as string[];
  }

  numbers(key: string): number[] | null {
    const v = this.kv.get(key);
    if (v === undefined) return null;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' && typeof x !== 'bigint')) throw new GgufError(`${this.file}: metadata key ${key} should be an array of numbers`);
    return (v as (number | bigint)[]).map(Number);
  }
}
