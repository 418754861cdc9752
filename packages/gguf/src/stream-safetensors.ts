/**
 * A safetensors writer that takes one tensor at a time, so a multi-GB import holds one dequantized
 * tensor in memory instead of all of them (@ragrpo/model's writeSafetensors encodes the whole map
 * into one buffer). Same conventions as that writer: keys sorted, data in key order, header padded
 * with spaces to a multiple of 8 bytes; the result reads back with readSafetensors.
 */
import * as fs from 'node:fs';
import { GgufError } from './errors.ts';

export interface PlannedTensor {
  name: string;
  shape: number[];
}

/** Writes F32 tensors in sorted name order; `produce(name)` is called once per tensor, in that order. */
export function writeF32Safetensors(
  file: string,
  planned: PlannedTensor[],
  produce: (name: string) => Float32Array,
  metadata?: Record<string, string>,
): { bytes: number } {
  const sorted = [...planned].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header['__metadata__'] = metadata;
  let offset = 0;
  for (const t of sorted) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * 4;
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const head = Buffer.alloc(8 + padded, 0x20);
  head.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(head, 8);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, head);
    for (const t of sorted) {
      const data = produce(t.name);
      const numel = t.shape.reduce((a, b) => a * b, 1);
      if (data.length !== numel) throw new GgufError(`${t.name}: produced ${data.length} values for shape [${t.shape.join(', ')}]`);
      // Float32Array bytes are little-endian on every platform Node runs on (x64, arm64).
      const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      let done = 0;
      while (done < view.length) done += fs.writeSync(fd, view, done, Math.min(view.length - done, 1 << 30));
    }
  } finally {
    fs.closeSync(fd);
  }
  return { bytes: 8 + padded + offset };
}
