import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { csvRowChunkId, readCsvDocuments, type CsvDocumentResult } from '../src/index.ts';
import { WINE_CSV, tempDir } from './helpers.ts';

const SOURCE = '../shared/datasets/wine-reviews/winemag-data-130k-v2.sample.csv';
const TEMPLATE = '{title} ({variety}, {country})\n{description}\nTasted by {taster_name}. Points: {points}.\nPrice: ${price}';

describe('wine CSV (seed 000: one chunk per row)', () => {
  let wine: CsvDocumentResult;
  let lines: string[];
  beforeAll(async () => {
    wine = await readCsvDocuments({ file: WINE_CSV, source: SOURCE, template: TEMPLATE, idColumn: 'id', onBadRow: 'skip' });
    // Independent count: every data line of this file starts with its numeric id and no field spans
    // lines (checked below), so records = lines - header and the truncated record is the last line.
    lines = (await readFile(WINE_CSV, 'utf8')).replace(/\n$/, '').split('\n');
  });

  it('has one record per line (the premise of the independent count)', () => {
    expect(lines.slice(1).every((l) => /^\d+,/.test(l))).toBe(true);
  });

  it('turns every complete row into a chunk and reports the truncated last record by line', () => {
    const truncatedLine = lines.length; // 1-based number of the last line
    const lastFields = lines[lines.length - 1].split(',');
    expect(lastFields.length).toBeLessThan(14); // it really is cut short
    expect(wine.chunks.length).toBe(lines.length - 2); // minus header, minus the truncated record
    expect(wine.records).toBe(lines.length - 1);
    expect(wine.skipped).toHaveLength(1);
    expect(wine.skipped[0].line).toBe(truncatedLine);
    expect(wine.skipped[0].reason).toMatch(/missing title, variety, winery/);
    const ids = new Set(wine.chunks.map((c) => JSON.parse(c.metadata).row.id));
    expect(ids.has(lastFields[0])).toBe(false);
    expect(ids.size).toBe(wine.chunks.length);
  });

  it('keeps quoted commas, accents and curly quotes, and drops a price line when the price is empty', () => {
    const first = wine.chunks[0];
    expect(first.text).toBe(
      'Nicosia 2013 Vulkà Bianco  (Etna) (White Blend, Italy)\n'
      + 'Aromas include tropical fruit, broom, brimstone and dried herb. The palate isn\'t overly expressive, offering unripened apple, citrus and dried sage alongside brisk acidity.\n'
      + 'Tasted by Kerin O’Keefe. Points: 87.',
    );
    expect(wine.chunks[1].text.endsWith('\nPrice: $15')).toBe(true);
  });

  it('gives deterministic ids from source path + row id, which csvRowChunkId reproduces', async () => {
    const again = await readCsvDocuments({ file: WINE_CSV, source: SOURCE, template: TEMPLATE, idColumn: 'id', onBadRow: 'skip', limit: 3 });
    expect(again.chunks.map((c) => c.chunk_id)).toEqual(wine.chunks.slice(0, 3).map((c) => c.chunk_id));
    expect(wine.chunks[5].chunk_id).toBe(csvRowChunkId(SOURCE, '5'));
    expect(csvRowChunkId('other.csv', '5')).not.toBe(csvRowChunkId(SOURCE, '5'));
    expect(new Set(wine.chunks.map((c) => c.chunk_id)).size).toBe(wine.chunks.length);
  });

  it('fails on the truncated record with its line when on_bad_row is fail', async () => {
    await expect(readCsvDocuments({ file: WINE_CSV, source: SOURCE, template: TEMPLATE, onBadRow: 'fail' }))
      .rejects.toThrow(new RegExp(`winemag-data-130k-v2\\.sample\\.csv:${lines.length}: malformed CSV record: record has 11 fields, the header has 14`));
  });
});

describe('CSV details', () => {
  it('handles a BOM, quoted newlines, CRLF, fallbacks and reports start lines of multi-line records', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'x.csv');
    await writeFile(file, '\uFEFFname,notes,price\r\n"Smith, J.","line one\r\nline two",\r\nDoe,“curly”,12\r\n\r\nBad,row\r\nLast,ok,3\r\n');
    const r = await readCsvDocuments({ file, source: 'x.csv', template: '{name}: {notes} ({price|n/a})', onBadRow: 'skip' });
    expect(r.chunks.map((c) => c.text)).toEqual(['Smith, J.: line one\nline two (n/a)', 'Doe: “curly” (12)', 'Last: ok (3)']);
    expect(r.chunks.map((c) => JSON.parse(c.metadata).line)).toEqual([2, 4, 7]);
    expect(r.skipped).toEqual([{ source: 'x.csv', line: 6, reason: expect.stringContaining('record has 2 fields, the header has 3') }]);
    // Without an id column the key is the record position, malformed records included.
    expect(r.chunks.map((c) => c.chunk_id)).toEqual([0, 1, 3].map((p) => csvRowChunkId('x.csv', p)));
  });

  it('uses empty_value for an empty placeholder on a line with other values', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'y.csv');
    await writeFile(file, 'a,b\n1,\n');
    const r = await readCsvDocuments({ file, source: 'y.csv', template: 'A={a} B={b}', onBadRow: 'fail', emptyValue: 'unknown' });
    expect(r.chunks[0].text).toBe('A=1 B=unknown');
  });

  it('splits long rows when split is on, with start indices into the rendered row', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'z.csv');
    const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    await writeFile(file, `id,text\nr1,${long}\n`);
    const r = await readCsvDocuments({ file, source: 'z.csv', template: '{text}', idColumn: 'id', onBadRow: 'fail', split: true, splitter: { chunkSize: 100, chunkOverlap: 20 } });
    expect(r.chunks.length).toBeGreaterThan(3);
    for (const c of r.chunks) {
      expect(long.slice(c.start_index, c.start_index + c.text.length)).toBe(c.text);
      expect(c.text.length).toBeLessThanOrEqual(100);
    }
    expect(r.chunks.map((c) => c.chunk_id)).toEqual(r.chunks.map((_, i) => csvRowChunkId('z.csv', 'r1', i)));
  });
});
