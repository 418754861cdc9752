/**
 * The dequantization kernels against gguf-py (tools/reference/gguf_quant_fixtures.py): random
 * block bytes of every supported type must dequantize to gguf-py's float32 values, bit for bit.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dequantize, ggmlType, SUPPORTED_GGML_TYPES } from '../src/index.ts';

interface Case { type: string; type_id: number; numel: number; bytes_base64: string; float32_base64: string }
const fixture = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'quants.json'), 'utf8')) as { oracle: Record<string, string>; cases: Case[] };

describe('dequantize vs gguf-py ' + fixture.oracle['gguf'], () => {
  it('covers every supported type', () => {
    expect(fixture.cases.map((c) => c.type).sort()).toEqual([...SUPPORTED_GGML_TYPES].filter((t) => t !== 'F32').sort());
  });

  for (const c of fixture.cases) {
    it(`${c.type}: ${c.numel} values bit-identical`, () => {
      const bytes = new Uint8Array(Buffer.from(c.bytes_base64, 'base64'));
      const want = new Float32Array(new Uint8Array(Buffer.from(c.float32_base64, 'base64')).buffer);
      const got = dequantize(c.type_id, bytes, c.numel, c.type);
      expect(got.length).toBe(want.length);
      let diff = 0;
      for (let i = 0; i < want.length; i++) if (Object.is(got[i], want[i]) === false) diff++;
      expect(diff, `${diff} of ${want.length} values differ`).toBe(0);
      const info = ggmlType(c.type_id)!;
      expect(bytes.length).toBe((c.numel / info.blockSize) * info.typeSize);
    });
  }

  it('F32 is copied', () => {
    const x = Float32Array.from([1.5, -2.25, 3e-8, 0]);
    expect(Array.from(dequantize(0, new Uint8Array(x.buffer), 4))).toEqual(Array.from(x));
  });

  it('refuses unknown types, partial blocks and short buffers', () => {
    expect(() => dequantize(20, new Uint8Array(18), 32, 'w')).toThrow(/w: ggml type 20 is not supported; supported: F32, F16, Q4_0/);
    expect(() => dequantize(8, new Uint8Array(34), 31, 'w')).toThrow(/not a whole number of Q8_0 blocks/);
    expect(() => dequantize(12, new Uint8Array(100), 256, 'w')).toThrow(/100 bytes hold fewer than the 144/);
  });
});
