import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SparseVectors, readTable, tableRows, writeTable } from '@ragrpo/contracts';
import { DataType } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { sparseVectorTable } from '../src/index.ts';

describe('sparse vector table', () => {
  it('round-trips indices and values per row, empty rows included, as List<Int32> / List<Float32>', async () => {
    const vectors = [
      { indices: Int32Array.of(0, 4, 9), values: Float32Array.of(0.5, 1.25, 2) },
      { indices: new Int32Array(0), values: new Float32Array(0) },
      { indices: Int32Array.of(7), values: Float32Array.of(0.75) },
    ];
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'embed-sparse-')), 'chunks.sparse.arrow');
    await writeTable(file, SparseVectors, sparseVectorTable(['a', 'b', 'c'], vectors, 'document', 10));
    const back = await readTable(file, SparseVectors);
    expect(DataType.isList(back.getChild('indices')?.type)).toBe(true);
    expect(back.schema.metadata.get('ragrpo.vocab_size')).toBe('10');
    expect(back.schema.metadata.get('ragrpo.role')).toBe('document');
    const rows = tableRows<{ id: string; indices: Int32Array; values: Float32Array }>(back);
    expect(rows.map((r) => [r.id, Array.from(r.indices), Array.from(r.values)])).toEqual([
      ['a', [0, 4, 9], [0.5, 1.25, 2]],
      ['b', [], []],
      ['c', [7], [0.75]],
    ]);
  });

  it('refuses ids and vectors of different lengths', () => {
    expect(() => sparseVectorTable(['a'], [], 'query', 1)).toThrow(/1 ids for 0 vectors/);
  });
});
