import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  numberToBf16Bits,
  numberToF16Bits,
  readSafetensors,
  readSafetensorsHeader,
  readShardedSafetensors,
  writeSafetensors,
  writeShardedSafetensors,
} from '../src/loading/safetensors.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'safetensors-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A safetensors file assembled by hand (header JSON + raw bytes), independent of the writer. */
function handMade(header: Record<string, unknown>, data: Uint8Array, headerLenOverride?: number): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLenOverride ?? h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function u16le(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 2);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setUint16(i * 2, x, true));
  return b;
}

function writeRaw(name: string, bytes: Uint8Array): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, bytes);
  return file;
}

describe('safetensors round trip', () => {
  it('writes sorted keys, an 8-byte aligned header and metadata, and reads every dtype back', () => {
    const file = path.join(tmp, 'rt.safetensors');
    writeSafetensors(
      file,
      {
        'z.f32': { shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, 1e-8, -7]) },
        'a.f64': { shape: [2], data: new Float64Array([Math.PI, -1e300]) },
        'm.i64': { shape: [3], data: new BigInt64Array([1n, -2n, 9007199254740993n]) },
        'b.bf16': { dtype: 'BF16', shape: [3], data: new Float32Array([1, -3, 3.140625]) },
        'c.f16': { dtype: 'F16', shape: [2, 2], data: new Float32Array([1, -2, 65504, 0.5]) },
        'd.i32': { shape: [2], data: new Int32Array([-5, 7]) },
        'e.u8': { dtype: 'U8', shape: [1], data: new Uint8Array([255]) },
        'f.empty': { shape: [0, 4], data: new Float32Array(0) },
      },
      { format: 'pt', note: 'hello' },
    );
    const bytes = fs.readFileSync(file);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    expect(headerLen % 8).toBe(0);
    const headerText = bytes.subarray(8, 8 + headerLen).toString('utf8');
    const keys = Object.keys(JSON.parse(headerText));
    expect(keys).toEqual(['__metadata__', 'a.f64', 'b.bf16', 'c.f16', 'd.i32', 'e.u8', 'f.empty', 'm.i64', 'z.f32']);

    const header = readSafetensorsHeader(file);
    expect(header.metadata).toEqual({ format: 'pt', note: 'hello' });
    // data laid out in key order: a.f64 (16 bytes) first, then b.bf16 (6 bytes)
    expect(header.tensors.get('a.f64')!.dataOffsets).toEqual([0, 16]);
    expect(header.tensors.get('b.bf16')!.dataOffsets).toEqual([16, 22]);

    const t = readSafetensors(file);
    expect(t.get('z.f32')).toEqual({ dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, 1e-8, -7]) });
    expect(Array.from(t.get('a.f64')!.data as Float64Array)).toEqual([Math.PI, -1e300]);
    expect(Array.from(t.get('m.i64')!.data as BigInt64Array)).toEqual([1n, -2n, 9007199254740993n]);
    expect(t.get('b.bf16')!.dtype).toBe('BF16');
    expect(t.get('b.bf16')!.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t.get('b.bf16')!.data as Float32Array)).toEqual([1, -3, 3.140625]);
    expect(Array.from(t.get('c.f16')!.data as Float32Array)).toEqual([1, -2, 65504, 0.5]);
    expect(Array.from(t.get('d.i32')!.data as Int32Array)).toEqual([-5, 7]);
    expect(Array.from(t.get('e.u8')!.data as Uint8Array)).toEqual([255]);
    expect(t.get('f.empty')!.shape).toEqual([0, 4]);

    const only = readSafetensors(file, { only: ['d.i32'] });
    expect([...only.keys()]).toEqual(['d.i32']);
    expect(() => readSafetensors(file, { only: ['nope'] })).toThrow(/rt\.safetensors: tensor "nope" is not in this file/);
  });

  it('encodes byte-identically for the same input (deterministic)', () => {
    const make = () => encodeSafetensors(new Map([['w', { shape: [2], data: new Float32Array([0.1, 0.2]) }]]), { format: 'pt' });
    expect(Buffer.from(make()).equals(Buffer.from(make()))).toBe(true);
  });
});

describe('half-precision decode against hand-computed values', () => {
  it('F16: normal, subnormal, extremes, signed zero, inf, nan', () => {
    const bits = [0x3c00, 0xc000, 0x3555, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x8000, 0x7e00];
    const file = writeRaw('f16.safetensors', handMade({ h: { dtype: 'F16', shape: [bits.length], data_offsets: [0, bits.length * 2] } }, u16le(bits)));
    const v = Array.from(readSafetensors(file).get('h')!.data as Float32Array);
    // 0x3555 = 2^-2 * (1 + 0x155/1024) = 0.333251953125; 0x03ff = 1023 * 2^-24; 0x0400 = 2^-14
    expect(v.slice(0, 10)).toEqual([1, -2, 0.333251953125, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 65504, Infinity, -Infinity, -0]);
    expect(Object.is(v[9], -0)).toBe(true);
    expect(v[10]).toBeNaN();
  });

  it('BF16: the upper 16 bits of a float32', () => {
    const bits = [0x3f80, 0xc040, 0x3eab, 0x4049, 0x0000, 0xff80];
    const file = writeRaw('bf16.safetensors', handMade({ b: { dtype: 'BF16', shape: [2, 3], data_offsets: [0, 12] } }, u16le(bits)));
    const t = readSafetensors(file).get('b')!;
    expect(t.shape).toEqual([2, 3]);
    // 0x3eab0000 = 2^-2 * (1 + 43/128) = 0.333984375; 0x40490000 = 2 * (1 + 73/128) = 3.140625
    expect(Array.from(t.data as Float32Array)).toEqual([1, -3, 0.333984375, 3.140625, 0, -Infinity]);
  });

  it('encodes F16/BF16 with round-to-nearest-even', () => {
    expect(numberToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie, even stays
    expect(numberToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie, odd rounds up
    expect(numberToBf16Bits(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81); // above the tie
    expect(numberToF16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(numberToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(numberToF16Bits(65520)).toBe(0x7c00); // halfway to 65536 rounds to even -> overflow
    expect(numberToF16Bits(65519)).toBe(0x7bff);
    expect(numberToF16Bits(2 ** -25)).toBe(0x0000); // half the smallest subnormal, ties to even (0)
    expect(numberToF16Bits(3 * 2 ** -26)).toBe(0x0001);
    expect(numberToF16Bits(-(2 ** -14))).toBe(0x8400);
    expect(numberToF16Bits(NaN) & 0x7c00).toBe(0x7c00);
  });
});

describe('safetensors validation errors name the file and tensor', () => {
  const ok = new Uint8Array(8);
  it('file too short for the header length', () => {
    const f = writeRaw('short.safetensors', new Uint8Array(5));
    expect(() => readSafetensors(f)).toThrow(/short\.safetensors: bad header: file is 5 bytes/);
  });
  it('header length past the end of the file', () => {
    const f = writeRaw('len.safetensors', handMade({}, ok, 10_000));
    expect(() => readSafetensors(f)).toThrow(/len\.safetensors: bad header: header length 10000 exceeds the file size/);
  });
  it('header is not JSON', () => {
    const bytes = handMade({}, new Uint8Array(0));
    bytes.set(new TextEncoder().encode('{x'), 8);
    const f = writeRaw('json.safetensors', bytes);
    expect(() => readSafetensors(f)).toThrow(/json\.safetensors: bad header: not valid UTF-8 JSON/);
  });
  it('data offsets out of range', () => {
    const f = writeRaw('range.safetensors', handMade({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, ok));
    expect(() => readSafetensors(f)).toThrow(/range\.safetensors: tensor "w": data_offsets \[0, 16\] out of range \(data section is 8 bytes\)/);
  });
  it('unknown dtype', () => {
    const f = writeRaw('dtype.safetensors', handMade({ w: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] } }, ok));
    expect(() => readSafetensors(f)).toThrow(/dtype\.safetensors: tensor "w": unknown dtype "F8_E4M3"; supported: F64, F32, F16, BF16, I64/);
  });
  it('shape does not match the byte length', () => {
    const f = writeRaw('shape.safetensors', handMade({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, ok));
    expect(() => readSafetensors(f)).toThrow(/shape\.safetensors: tensor "w": shape \[3\] of F32 needs 12 bytes but data_offsets \[0, 8\] hold 8/);
  });
  it('overlapping tensors', () => {
    const f = writeRaw(
      'overlap.safetensors',
      handMade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, ok),
    );
    expect(() => readSafetensors(f)).toThrow(/overlap\.safetensors: tensor "b": data_offsets \[4, 8\] overlap/);
  });
  it('writer refuses data that does not fill the shape', () => {
    expect(() => encodeSafetensors({ w: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(/tensor "w": shape \[2, 2\] has 4 elements but data has 3/);
  });
  it('in-memory decode uses the label', () => {
    expect(() => decodeSafetensors(new Uint8Array(3), 'mem.bin')).toThrow(/^mem\.bin: bad header/);
  });
});

describe('sharded checkpoints', () => {
  const tensors = new Map(
    ['a', 'b', 'c', 'd'].map((n, i) => [n, { shape: [4], data: new Float32Array([i, i + 0.5, -i, 2 * i]) }] as const),
  );
  it('writes HF-named shards plus index and reads them back', () => {
    const dir = path.join(tmp, 'sharded');
    const shards = writeShardedSafetensors(dir, tensors, { maxShardBytes: 32 });
    expect(shards).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8'));
    expect(index.weight_map).toEqual({
      a: 'model-00001-of-00002.safetensors',
      b: 'model-00001-of-00002.safetensors',
      c: 'model-00002-of-00002.safetensors',
      d: 'model-00002-of-00002.safetensors',
    });
    expect(index.metadata.total_size).toBe(64);
    const back = readShardedSafetensors(path.join(dir, 'model.safetensors.index.json'));
    expect([...back.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(Array.from(back.get('c')!.data as Float32Array)).toEqual([2, 2.5, -2, 4]);
  });
  it('names the shard and tensor when the index lies', () => {
    const dir = path.join(tmp, 'sharded-bad');
    writeShardedSafetensors(dir, tensors, { maxShardBytes: 32 });
    const indexFile = path.join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
    index.weight_map.a = 'model-00002-of-00002.safetensors';
    fs.writeFileSync(indexFile, JSON.stringify(index));
    expect(() => readShardedSafetensors(indexFile)).toThrow(/model-00002-of-00002\.safetensors: tensor "a" listed in model\.safetensors\.index\.json is not in this shard/);
    index.weight_map.a = 'model-00009-of-00009.safetensors';
    fs.writeFileSync(indexFile, JSON.stringify(index));
    expect(() => readShardedSafetensors(indexFile)).toThrow(/shard model-00009-of-00009\.safetensors listed in weight_map is missing/);
  });
});
