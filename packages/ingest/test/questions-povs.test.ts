import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { assignSplit, parseIdList, readPovs, readQuestions } from '../src/index.ts';
import { tempDir } from './helpers.ts';

/** A workbook like seed 002's: a question sheet and a POV sheet (column 'POV', with a blank row). */
async function seed002Workbook(dir: string): Promise<string> {
  const wb = new ExcelJS.Workbook();
  const q = wb.addWorksheet('FBQ');
  q.addRow(['id', 'question', 'answer', 'gold']);
  q.addRow(['q1', 'What did the G7 agree on?', 'A joint statement.', 'c1;c2']);
  q.addRow([2, { richText: [{ text: 'Who leads ' }, { text: 'BRICS?' }] }, null, '["c3"]']);
  q.addRow(['q3', 'Why does trade matter?', { formula: '"Because"&" it does"', result: 'Because it does' }, '']);
  const p = wb.addWorksheet('list_of_POV');
  p.addRow(['No', 'POV']);
  p.addRow([1, 'The Monroe doctrine shaped South America.']);
  p.addRow([2, '']);
  p.addRow([3, 'Colonial rule in Africa was harsh.']);
  const file = path.join(dir, 'seed002.xlsx');
  await wb.xlsx.writeFile(file);
  return file;
}

describe('questions', () => {
  it('reads an XLSX question sheet with references and gold ids', async () => {
    const file = await seed002Workbook(await tempDir());
    const qs = await readQuestions({ file, source: 'q.xlsx', sheet: 'FBQ', idField: 'id', referenceField: 'answer', goldField: 'gold', testFraction: 0.5, seed: 7 });
    expect(qs.map((q) => [q.question_id, q.question, q.reference, q.gold_chunk_ids])).toEqual([
      ['q1', 'What did the G7 agree on?', 'A joint statement.', ['c1', 'c2']],
      ['2', 'Who leads BRICS?', null, ['c3']],
      ['q3', 'Why does trade matter?', 'Because it does', []],
    ]);
    expect(qs.map((q) => q.split)).toEqual(['q1', '2', 'q3'].map((id) => assignSplit(id, 7, 0.5)));
  });

  it('reads JSONL with gold arrays and hashes question text into ids when there is no id field', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'q.jsonl');
    await writeFile(file, '{"question":"A?","reference":"a","gold":["x","y"]}\n\n{"question":"B?"}\n{"question":"A?"}\n');
    const qs = await readQuestions({ file, source: 'q.jsonl', referenceField: 'reference', goldField: 'gold', testFraction: 0.2, seed: 0 });
    expect(qs.map((q) => q.gold_chunk_ids)).toEqual([['x', 'y'], [], []]);
    expect(new Set(qs.map((q) => q.question_id)).size).toBe(3); // the repeated question gets its own id
    const again = await readQuestions({ file, source: 'q.jsonl', testFraction: 0.2, seed: 0 });
    expect(again.map((q) => q.question_id)).toEqual(qs.map((q) => q.question_id));
  });

  it('splits deterministically, near the fraction, and differently for another seed', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `question-${i}`);
    const a = ids.map((id) => assignSplit(id, 42, 0.2));
    expect(ids.map((id) => assignSplit(id, 42, 0.2))).toEqual(a);
    const tests = a.filter((s) => s === 'test').length;
    // Binomial(2000, 0.2): mean 400, sd ~17.9; 4 sd either side.
    expect(Math.abs(tests - 400)).toBeLessThan(72);
    const b = ids.map((id) => assignSplit(id, 43, 0.2));
    expect(b).not.toEqual(a);
    expect(ids.every((id) => assignSplit(id, 1, 0) === 'train' && assignSplit(id, 1, 1) === 'test')).toBe(true);
    // A question keeps its side whatever else is in the file: the split depends on its id only.
    expect(assignSplit('question-7', 42, 0.2)).toBe(a[7]);
  });

  it('splits by group_field: every question of a group on the side its value hashes to', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'q.jsonl');
    const wines = Array.from({ length: 60 }, (_, i) => String(i));
    const lines = wines.flatMap((w) => ['variety', 'country', 'points'].map((k) => JSON.stringify({ id: `${k}-${w}`, question: `${k} of wine ${w}?`, wine: Number(w) })));
    await writeFile(file, lines.join('\n') + '\n');
    const qs = await readQuestions({ file, source: 'q.jsonl', idField: 'id', groupField: 'wine', testFraction: 0.3, seed: 5 });
    const byWine = new Map<string, Set<string>>();
    for (const q of qs) {
      const w = q.question_id.split('-')[1];
      byWine.set(w, (byWine.get(w) ?? new Set()).add(q.split));
    }
    // One side per wine, the side of the wine's value (a number in the file, hashed as its text).
    expect([...byWine.values()].every((s) => s.size === 1)).toBe(true);
    expect(wines.map((w) => [...(byWine.get(w) ?? [])][0])).toEqual(wines.map((w) => assignSplit(w, 5, 0.3)));
    const sides = new Set(qs.map((q) => q.split));
    expect(sides).toEqual(new Set(['train', 'test']));
    // Without the group field the same file splits questions of one wine apart.
    const byId = await readQuestions({ file, source: 'q.jsonl', idField: 'id', testFraction: 0.3, seed: 5 });
    expect(byId.map((q) => q.split)).toEqual(byId.map((q) => assignSplit(q.question_id, 5, 0.3)));
    expect(byId.map((q) => q.split)).not.toEqual(qs.map((q) => q.split));
  });

  it('names the row whose group is empty and the file whose group column is missing', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'q.jsonl');
    await writeFile(file, '{"id":"a","question":"A?","wine":"1"}\n{"id":"b","question":"B?","wine":""}\n');
    await expect(readQuestions({ file, source: 'q.jsonl', idField: 'id', groupField: 'wine', testFraction: 0.5, seed: 0 }))
      .rejects.toThrow(/:2: the group \('wine'\) is empty/);
    await expect(readQuestions({ file, source: 'q.jsonl', idField: 'id', groupField: 'bottle', testFraction: 0.5, seed: 0 }))
      .rejects.toThrow(/no column 'bottle' \(the group field\)/);
  });

  it('parses gold id lists written in cells', () => {
    expect(parseIdList('a, b;c|d', 'x')).toEqual(['a', 'b', 'c', 'd']);
    expect(parseIdList('["a","b"]', 'x')).toEqual(['a', 'b']);
    expect(() => parseIdList('["a",', 'f:3')).toThrow(/f:3: gold chunk ids .* not valid JSON/);
  });
});

describe('POVs', () => {
  it('reads the POV column of an XLSX sheet (case-insensitive column, blank cells skipped)', async () => {
    const file = await seed002Workbook(await tempDir());
    const povs = await readPovs({ file, source: 'p.xlsx', sheet: 'list_of_POV', column: 'pov' });
    expect(povs).toEqual([
      { pov_id: 'pov-001', text: 'The Monroe doctrine shaped South America.', source: 'p.xlsx' },
      { pov_id: 'pov-002', text: 'Colonial rule in Africa was harsh.', source: 'p.xlsx' },
    ]);
  });

  it('takes inline items from the pipeline file', async () => {
    const povs = await readPovs({ items: ['one view', ' another '] });
    expect(povs.map((p) => [p.pov_id, p.text])).toEqual([['pov-001', 'one view'], ['pov-002', 'another']]);
  });

  it('names the sheet, the columns found and the column expected when the column is missing', async () => {
    const file = await seed002Workbook(await tempDir());
    await expect(readPovs({ file, sheet: 'FBQ', column: 'pov' }))
      .rejects.toThrow(`${file}, sheet 'FBQ': no column 'pov' (the POV column); columns found: id, question, answer, gold`);
    await expect(readPovs({ file, sheet: 'Nope' })).rejects.toThrow(`${file}: no sheet 'Nope'; sheets: FBQ, list_of_POV`);
  });
});
