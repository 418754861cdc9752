/**
 * ggml tensor types to float32. Block layouts follow llama.cpp's ggml-quants.c (`dequantize_row_*`);
 * each kernel rounds to float32 once per value, as ggml does (every partial product before the last
 * step is exact in float32), so the output equals gguf-py's and ggml's bit for bit.
 *
 *   Q8_0  32 values: f16 d, 32 x int8                      x = q * d
 *   Q4_0  32 values: f16 d, 16 bytes of nibbles            x = (q - 8) * d
 *   Q4_1  32 values: f16 d, f16 m, 16 bytes of nibbles     x = q * d + m
 *   Q5_0  32 values: f16 d, u32 high bits, 16 bytes        x = (q5 - 16) * d
 *   Q5_1  32 values: f16 d, f16 m, u32 high bits, 16 bytes x = q5 * d + m
 *   Q4_K 256 values: f16 d, f16 dmin, 12 bytes of 6-bit (scale, min) x 8, 128 bytes of nibbles
 *   Q5_K 256 values: as Q4_K plus 32 bytes of fifth bits
 *   Q6_K 256 values: 128 bytes low nibbles, 64 bytes high 2 bits, 16 x int8 scales, f16 d
 */
import { GgufError } from './errors.ts';

export interface GgmlTypeInfo {
  id: number;
  name: string;
  /** Values per block (1 for plain float types). */
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
  /** Writes `nBlocks * blockSize` values from `src` (starting at byte 0) into `out` at `outOffset`. */
  dequantize(src: Uint8Array, nBlocks: number, out: Float32Array, outOffset: number): void;
}

// ---- half precision -------------------------------------------------------------------------------

let halfTable: Float32Array | null = null;

/** All 65536 float16 bit patterns as float32 (built once, 256 KiB). */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  halfTable = t;
  return t;
}

// ---- kernels --------------------------------------------------------------------------------------

const QK = 32;
const QK_K = 256;

function f32(src: Uint8Array, nBlocks: number, out: Float32Array, o: number): void {
  const view = new DataView(src.buffer, src.byteOffset, nBlocks * 4);
  for (let i = 0; i < nBlocks; i++) out[o + i] = view.getFloat32(i * 4, true);
}

function f16(src: Uint8Array, nBlocks: number, out: Float32Array, o: number): void {
  const h = halfToFloatTable();
  for (let i = 0; i < nBlocks; i++) out[o + i] = h[src[2 * i]! | (src[2 * i + 1]! << 8)]!;
}

function bf16(src: Uint8Array, nBlocks: number, out: Float32Array, o: number): void {
  const bits = new Uint32Array(1);
  const asFloat = new Float32Array(bits.buffer);
  for (let i = 0; i < nBlocks; i++) {
    bits[0] = (src[2 * i]! | (src[2 * i + 1]! << 8)) << 16;
    out[o + i] = asFloat[0]!;
  }
}

function q8_0(src: Uint8Array, nBlocks: number, out: Float32Array, o: number): void {
  const h = halfToFloatTable();
  for (let b = 0; b < nBlocks; b++) {
    const p = b * 34;
    const d = h[src[p]! | (src[p + 1]! << 8)]!;
    const y = o + b * QK;
    for (let j = 0; j < QK; j++) out[y + j] = ((src[p + 2 + j]! << 24) >> 24) * d;
  }
}

function q4_0(src: Uint8Array, nBlocks: number, out: Float32Array, o: number): void {
  const h = halfToFloatTable();
  for (let b = 0; b < nBlocks; b++) {
    const p = b * 18;
    const d = h[src[p]! | (src[p + 1]! << 8)]!;
    const y = o + b * QK;
    for (let j = 0; j < 16; j++) {
      const q = src[p + 2 + j]!;
      out[y + j] = ((q & 0x0f) - 8) * d;
      out[y + j + 16] = ((q >> 4) - 8) * d;
    }
  }
}

function q4_1(src: Uint8Array, nBlocks: number, out: Float32Array, o: number): void {
  const h = halfToFloatTable();
  for (let b = 0; b < nBlocks; b++) {
    const p = b * 20;
    const d = h[src[p]! | (src[p + 1]! << 8)]!;
    const m = h[src[p + 2]! | (src[p + 3]! << 8)]!;
    const y = o + b * QK;
    for (let j = 0; j < 16; j++) {
      const q = src[p + 4 + j]!;
      out[y + j] = (q & 0x0f) * d + m;
      out[y + j + 16] = (q >> 4) * d + m;
    }
  }
}

function u32(src: Uint8Array, p: number): number {
  return (src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16) | (src[p + 3]! << 24)) >>> 0;
}

function q5_0(src: Uint8Array, nBlocks: number, out: Float32Array, o: number): void {
  const h = halfToFloatTable();
  for (let b = 0; b < nBlocks; b++) {
    const p = b * 22;
    const d = h[src[p]! | (src[p + 1]! << 8)]!;
    const qh = u32(src, p + 2);
    const y = o + b * QK;
    for (let j = 0; j < 16; j++) {
      const q = src[p + 6 + j]!;
      const h0 = ((qh >>> j) << 4) & 0x10;
      const h1 = (qh >>> (j + 12)) & 0x10;
      out[y + j] = (((q & 0x0f) | h0) - 16) * d;
      out[y + j + 16] = (((q >> 4) | h1) - 16) * d;
    }
  }
}

function q5_1(src: Uint8Array, nBlocks: number, out: Float32Array, o: number): void {
  const h = halfToFloatTable();
  for (let b = 0; b < nBlocks; b++) {
    const p = b * 24;
    const d = h[src[p]! | (src[p + 1]! << 8)]!;
    const m = h[src[p + 2]! | (src[p + 3]! << 8)]!;
    const qh = u32(src, p + 4);
    const y = o + b * QK;
    for (let j = 0; j < 16; j++) {
      const q = src[p + 8 + j]!;
      const h0 = ((qh >>> j) << 4) & 0x10;
      const h1 = (qh >>> (j + 12)) & 0x10;
      out[y + j] = ((q & 0x0f) | h0) * d + m;
      out[y + j + 16] = ((q >> 4) | h1) * d + m;
    }
  }
}

/** The 8 (scale, min) pairs of a Q4_K/Q5_K block: 6 bits each, packed into 12 bytes at `p`. */
function scaleMinK4(src: Uint8Array, p: number, sc: Uint8Array, mn: Uint8Array): void {
  for (let j = 0; j < 4; j++) {
    sc[j] = src[p + j]! & 63;
    mn[j] = src[p + j + 4]! & 63;
  }
  for (let j = 4; j < 8; j++) {
    sc[j] = (src[p + j + 4]! & 0x0f) | ((src[p + j - 4]! >> 6) << 4);
    mn[j] = (src[p + j + 4]! >> 4) | ((src[p + j]! >> 6) << 4);
  }
}

function q4_k(src: Uint8Array, nBlocks: number, out: Float32Array, o: number): void {
  const h = halfToFloatTable();
  const sc = new Uint8Array(8);
  const mn = new Uint8Array(8);
  for (let b = 0; b < nBlocks; b++) {
    const p = b * 144;
    const d = h[src[p]! | (src[p + 1]! << 8)]!;
    const dmin = h[src[p + 2]! | (src[p + 3]! << 8)]!;
    scaleMinK4(src, p + 4, sc, mn);
    const qs = p + 16;
    const y = o + b * QK_K;
    for (let j = 0; j < 4; j++) {
      const d1 = Math.fround(d * sc[2 * j]!), m1 = Math.fround(dmin * mn[2 * j]!);
      const d2 = Math.fround(d * sc[2 * j + 1]!), m2 = Math.fround(dmin * mn[2 * j + 1]!);
      for (let l = 0; l < 32; l++) {
        const q = src[qs + 32 * j + l]!;
        out[y + 64 * j + l] = d1 * (q & 0x0f) - m1;
        out[y + 64 * j + 32 + l] = d2 * (q >> 4) - m2;
      }
    }
  }
}

function q5_k(src: Uint8Array, nBlocks: number, out: Float32Array, o: number): void {
  const h = halfToFloatTable();
  const sc = new Uint8Array(8);
  const mn = new Uint8Array(8);
  for (let b = 0; b < nBlocks; b++) {
    const p = b * 176;
    const d = h[src[p]! | (src[p + 1]! << 8)]!;
    const dmin = h[src[p + 2]! | (src[p + 3]! << 8)]!;
    scaleMinK4(src, p + 4, sc, mn);
    const qh = p + 16;
    const qs = p + 48;
    const y = o + b * QK_K;
    for (let j = 0; j < 4; j++) {
      const d1 = Math.fround(d * sc[2 * j]!), m1 = Math.fround(dmin * mn[2 * j]!);
      const d2 = Math.fround(d * sc[2 * j + 1]!), m2 = Math.fround(dmin * mn[2 * j + 1]!);
      const u1 = 1 << (2 * j), u2 = 2 << (2 * j);
      for (let l = 0; l < 32; l++) {
        const q = src[qs + 32 * j + l]!;
        const hb = src[qh + l]!;
        out[y + 64 * j + l] = d1 * ((q & 0x0f) + (hb & u1 ? 16 : 0)) - m1;
        out[y + 64 * j + 32 + l] = d2 * ((q >> 4) + (hb & u2 ? 16 : 0)) - m2;
      }
    }
  }
}

function q6_k(src: Uint8Array, nBlocks: number, out: Float32Array, o: number): void {
  const h = halfToFloatTable();
  const ds = new Float32Array(8);
  for (let b = 0; b < nBlocks; b++) {
    const p = b * 210;
    const d = h[src[p + 208]! | (src[p + 209]! << 8)]!;
    for (let n = 0; n < 2; n++) {
      const ql = p + 64 * n;
      const qh = p + 128 + 32 * n;
      for (let k = 0; k < 8; k++) ds[k] = d * ((src[p + 192 + 8 * n + k]! << 24) >> 24); // exact in float32
      const y = o + b * QK_K + 128 * n;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const a = src[ql + l]!, c = src[ql + l + 32]!, hb = src[qh + l]!;
        out[y + l] = ds[is]! * (((a & 0x0f) | ((hb & 3) << 4)) - 32);
        out[y + l + 32] = ds[is + 2]! * (((c & 0x0f) | (((hb >> 2) & 3) << 4)) - 32);
        out[y + l + 64] = ds[is + 4]! * (((a >> 4) | (((hb >> 4) & 3) << 4)) - 32);
        out[y + l + 96] = ds[is + 6]! * (((c >> 4) | (((hb >> 6) & 3) << 4)) - 32);
      }
    }
  }
}

// ---- the table --------------------------------------------------------------------------------------

const TYPES: GgmlTypeInfo[] = [
  { id: 0, name: 'F32', blockSize: 1, typeSize: 4, dequantize: f32 },
  { id: 1, name: 'F16', blockSize: 1, typeSize: 2, dequantize: f16 },
  { id: 2, name: 'Q4_0', blockSize: QK, typeSize: 18, dequantize: q4_0 },
  { id: 3, name: 'Q4_1', blockSize: QK, typeSize: 20, dequantize: q4_1 },
  { id: 6, name: 'Q5_0', blockSize: QK, typeSize: 22, dequantize: q5_0 },
  { id: 7, name: 'Q5_1', blockSize: QK, typeSize: 24, dequantize: q5_1 },
  { id: 8, name: 'Q8_0', blockSize: QK, typeSize: 34, dequantize: q8_0 },
  { id: 12, name: 'Q4_K', blockSize: QK_K, typeSize: 144, dequantize: q4_k },
  { id: 13, name: 'Q5_K', blockSize: QK_K, typeSize: 176, dequantize: q5_k },
  { id: 14, name: 'Q6_K', blockSize: QK_K, typeSize: 210, dequantize: q6_k },
  { id: 30, name: 'BF16', blockSize: 1, typeSize: 2, dequantize: bf16 },
];
const BY_ID = new Map(TYPES.map((t) => [t.id, t]));

/** The ggml types this importer dequantizes, by name. */
export const SUPPORTED_GGML_TYPES: readonly string[] = TYPES.map((t) => t.name);

export function ggmlType(id: number): GgmlTypeInfo | undefined {
  return BY_ID.get(id);
}

/** Bytes of a tensor of `numel` values whose rows are `rowLength` long (rows must hold whole blocks). */
export function tensorByteLength(t: GgmlTypeInfo, numel: number, rowLength: number): number {
  if (rowLength % t.blockSize !== 0) {
    throw new GgufError(`a ${t.name} tensor row of ${rowLength} values is not a whole number of ${t.blockSize}-value blocks`);
  }
  return (numel / t.blockSize) * t.typeSize;
}

/** Dequantizes `numel` values of ggml type `typeId` held in `bytes`. */
export function dequantize(typeId: number, bytes: Uint8Array, numel: number, label = 'tensor'): Float32Array {
  const t = BY_ID.get(typeId);
  if (!t) throw new GgufError(`${label}: ggml type ${typeId} is not supported; supported: ${SUPPORTED_GGML_TYPES.join(', ')}`);
  if (numel % t.blockSize !== 0) throw new GgufError(`${label}: ${numel} values are not a whole number of ${t.name} blocks (${t.blockSize})`);
  const nBlocks = numel / t.blockSize;
  if (bytes.byteLength < nBlocks * t.typeSize) {
    throw new GgufError(`${label}: ${bytes.byteLength} bytes hold fewer than the ${nBlocks * t.typeSize} a ${t.name} tensor of ${numel} values needs`);
  }
  const out = new Float32Array(numel);
  t.dequantize(bytes, nBlocks, out, 0);
  return out;
}
