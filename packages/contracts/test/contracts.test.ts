import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Chunks, DenseVectors, Povs, Questions, Retrieved, float32VectorColumn, readTable, tableFromColumns, tableFromRows,
  tableRows, vectorColumn, withStageOutput, writeTable,
} from '../src/index.ts';
import { vectorFromArray, Utf8 } from 'apache-arrow';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'contracts-'));

describe('contracts', () => {
  it('round-trips a table through an Arrow file with its contract label', async () => {
    const dir = await tmp();
    const t = tableFromRows(Questions, [
      { question_id: 'q1', question: 'What is GRPO?', reference: 'A policy optimisation method', split: 'train', gold_chunk_ids: ['c1', 'c2'], source: 'x.jsonl' },
      { question_id: 'q2', question: 'Why?', reference: null, split: 'test', gold_chunk_ids: [], source: 'x.jsonl' },
    ]);
    const file = path.join(dir, 'questions.arrow');
    await writeTable(file, Questions, t);
    const back = tableRows<{ question: string; reference: string | null; gold_chunk_ids: string[] }>(await readTable(file, Questions));
    expect(back.map((r) => r.question)).toEqual(['What is GRPO?', 'Why?']);
    expect(back[1].reference).toBeNull();
    expect(Array.from(back[0].gold_chunk_ids)).toEqual(['c1', 'c2']);
  });

  it('refuses to read a table written under another contract or version', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'r.arrow');
    const t = tableFromRows(Retrieved, [{ question_id: 'q', rank: 1, chunk_id: 'c', score: 1, method: 'sparse', text: 't' }]);
    await writeTable(file, Retrieved, t);
    await expect(readTable(file, Chunks)).rejects.toThrow(/holds a 'retrieved' table, expected 'chunks'/);
    await expect(readTable(file, { ...Retrieved, version: 2 })).rejects.toThrow(/schema version 1, this build reads version 2/);
    await expect(readTable(path.join(dir, 'missing.arrow'), Chunks)).rejects.toThrow(/not found/);
    await writeFile(path.join(dir, 'junk.arrow'), 'not arrow at all');
    await expect(readTable(path.join(dir, 'junk.arrow'), Chunks)).rejects.toThrow(/not a readable Arrow IPC file/);
  });

  it('stores vectors as fixed-size float32 lists and reads them back flat', async () => {
    const dir = await tmp();
    const flat = new Float32Array([1, 2, 3, 4, 5, 6]);
    const t = tableFromColumns(DenseVectors, { id: vectorFromArray(['a', 'b'], new Utf8()), vector: float32VectorColumn(flat, 3) }, { 'ragrpo.dim': '3' });
    const file = path.join(dir, 'v.arrow');
    await writeTable(file, DenseVectors, t);
    const back = await readTable(file, DenseVectors);
    expect(String(back.schema.fields[1].type)).toBe('FixedSizeList[3]<Float32>');
    const { flat: f, dim, rows } = vectorColumn(back);
    expect([dim, rows]).toEqual([3, 2]);
    expect(Array.from(f)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(back.schema.metadata.get('ragrpo.dim')).toBe('3');
  });

  it('rejects a missing required value naming the column and row', () => {
    expect(() => tableFromRows(Povs, [{ pov_id: 'p', text: null, source: 's' }])).toThrow(/povs row 0: column 'text' is empty/);
  });

  it('keeps the previous stage output when the new one fails, and leaves no temp folder', async () => {
    const dir = await tmp();
    const out = path.join(dir, 'stage');
    await withStageOutput(out, async (t) => writeFile(path.join(t, 'a.txt'), 'first'));
    await expect(withStageOutput(out, async (t) => {
      await writeFile(path.join(t, 'a.txt'), 'half');
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(await readFile(path.join(out, 'a.txt'), 'utf8')).toBe('first');
    expect((await readdir(dir)).sort()).toEqual(['stage']);
    await withStageOutput(out, async (t) => writeFile(path.join(t, 'b.txt'), 'second'));
    expect(await readdir(out)).toEqual(['b.txt']);
  });

  it('removes the temp folder of a killed run (its process is gone), but not a live run\'s', async () => {
    const dir = await tmp();
    const out = path.join(dir, 'rank');
    // SIGKILL skips every cleanup: a dead pid's folder is what such a run leaves behind
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await mkdir(path.join(dir, `.rank.tmp-${dead.stdout}-0a1b2c3d`, 'heatmaps'), { recursive: true });
    await mkdir(path.join(dir, `.rank.tmp-${process.ppid}-live0000`));
    await mkdir(path.join(dir, '.embed.tmp-1-other000'));
    await withStageOutput(out, async (t) => writeFile(path.join(t, 'ranked.arrow'), 'x'));
    expect((await readdir(dir)).sort()).toEqual(['.embed.tmp-1-other000', `.rank.tmp-${process.ppid}-live0000`, 'rank']);
  });
});
