import { execFile } from 'node:child_process';
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { IngestSection, stageOutputWriter } from '@ragrpo/config';
import { exists, withStageOutput } from '@ragrpo/contracts';
import { firstInvalidUtf8, runIngest, writeIngestArtifacts } from '../src/index.ts';
import { minimalPdf, repoRoot, tempDir } from './helpers.ts';

const run = promisify(execFile);

/** Runs ingest the way the command does (temp folder swapped in on success) and returns the error. */
async function ingestError(dir: string, section: unknown): Promise<string> {
  const cfg = IngestSection.parse(section);
  const out = path.join(dir, 'artifacts', 'ingest');
  let message = '';
  try {
    await withStageOutput(out, async (tmp) => {
      const r = await runIngest(cfg, { seed: 0, resolve: (p) => path.resolve(dir, p) });
      await writeIngestArtifacts(r, stageOutputWriter('ingest', tmp));
    });
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).not.toBe('');
  expect(await exists(out)).toBe(false); // nothing half-written is left behind
  expect(await readdir(path.join(dir, 'artifacts'))).toEqual([]);
  return message;
}

const csvDocs = (p: string, template = '{a}') => ({ documents: [{ kind: 'csv', path: p, template }] });

describe('bad inputs give one clear line and no artifacts', () => {
  it('an empty file', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'empty.csv'), '');
    expect(await ingestError(dir, csvDocs('empty.csv'))).toBe(`${path.join(dir, 'empty.csv')}: the file is empty`);
  });

  it('a binary file named .csv', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'data.csv'), Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]));
    expect(await ingestError(dir, csvDocs('data.csv'))).toMatch(/data\.csv: looks like a binary file, not text \(NUL byte at offset 5, line 1\)/);
  });

  it('Latin-1 text: names the byte offset and line and says to convert to UTF-8', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'latin1.csv'), Buffer.from('a,b\nRos\xe9,1\n', 'latin1'));
    const msg = await ingestError(dir, csvDocs('latin1.csv'));
    expect(msg).toMatch(/latin1\.csv: not valid UTF-8 \(byte 0xe9 at offset 7, line 2\).*convert it.*UTF-8/);
    expect(msg.includes('\n')).toBe(false);
  });

  it('a PDF without a text layer', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'scan.pdf'), minimalPdf());
    expect(await ingestError(dir, { documents: [{ kind: 'pdf', path: 'scan.pdf' }] })).toMatch(/scan\.pdf: the PDF has no text layer.*needs OCR/);
  });

  it('a template placeholder that is not a column', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'w.csv'), 'title,description,price\nA,B,1\n');
    expect(await ingestError(dir, csvDocs('w.csv', '{title}: {descripton}')))
      .toBe(`${path.join(dir, 'w.csv')}: template placeholder {descripton} is not a column of the CSV (did you mean {description}?); columns: title, description, price`);
  });

  it('a question sheet missing its column', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'd.txt'), 'some text');
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('Questions').addRows([['Frage', 'Antwort'], ['Wo?', 'Hier']]);
    await wb.xlsx.writeFile(path.join(dir, 'q.xlsx'));
    const msg = await ingestError(dir, { documents: [{ kind: 'text', path: 'd.txt' }], questions: { path: 'q.xlsx', sheet: 'Questions' } });
    expect(msg).toBe(`${path.join(dir, 'q.xlsx')}, sheet 'Questions': no column 'question' (the question field); columns found: Frage, Antwort. Rename the column or set the field option`);
  });

  it('UTF-16 text and a header-only CSV', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'u16.csv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n1,2\n', 'utf16le')]));
    expect(await ingestError(dir, csvDocs('u16.csv'))).toMatch(/u16\.csv: the file is UTF-16 \(byte-order mark FF FE\); save it as UTF-8/);
    await writeFile(path.join(dir, 'head.csv'), 'a,b\n');
    expect(await ingestError(dir, csvDocs('head.csv'))).toBe(`${path.join(dir, 'head.csv')}: the CSV has a header but no rows`);
  });

  it('finds the first invalid UTF-8 byte (truncated sequence, overlong, surrogate)', () => {
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xc3]))).toBe(1);
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0x80]))).toBe(1);
    expect(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0);
    expect(firstInvalidUtf8(Buffer.from('ok ✓ 𝑞', 'utf8'))).toBe(-1);
  });
});

describe('the command', () => {
  async function workspace(yaml: string): Promise<string> {
    const dir = await tempDir('ingest-cli-');
    await mkdir(path.join(dir, 'pipelines'));
    await writeFile(path.join(dir, 'pipelines', 'p.yaml'), yaml);
    return dir;
  }
  const cli = (dir: string) => run('npx', ['tsx', 'packages/ingest/src/cli.ts', '--pipeline', 'pipelines/p.yaml'], {
    cwd: repoRoot, env: { ...process.env, NX_WORKSPACE_ROOT: dir, RAGRPO_ARTIFACTS: path.join(dir, 'artifacts'), CI: '1' },
  });

  it('fails with one line naming the file and line, exit 1, and writes no artifacts folder', async () => {
    const dir = await workspace('ingest:\n  documents:\n    - kind: csv\n      path: data/wine.csv\n      template: "{title}"\n      on_bad_row: fail\nembed:\n  sparse: {}\n');
    await mkdir(path.join(dir, 'data'));
    await writeFile(path.join(dir, 'data', 'wine.csv'), 'id,title,price\n1,Good,10\n2,Cut\n');
    const err = await cli(dir).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(err?.code).toBe(1);
    const errors = err!.stderr.split('\n').filter((l) => l.startsWith('[ingest] error'));
    expect(errors).toEqual([`[ingest] error: ${path.join(dir, 'data', 'wine.csv')}:3: malformed CSV record: record has 2 fields, the header has 3 (missing price): truncated or unbalanced row. Fix the file, or set on_bad_row: skip to leave it out with a warning`]);
    expect(await exists(path.join(dir, 'artifacts', 'p', 'ingest'))).toBe(false);
    expect(await readdir(path.join(dir, 'artifacts', 'p')).catch(() => [])).toEqual([]);
  });

  it('writes the configured artifacts and a one-line summary', async () => {
    const dir = await workspace([
      'seed: 3', 'ingest:', '  documents:', '    - kind: csv', '      path: data/wine.csv', '      template: "{title}: {price}"', '      id_column: id',
      '  povs:', '    items: ["price matters", "terroir matters"]', 'embed:', '  sparse: {}', '',
    ].join('\n'));
    await mkdir(path.join(dir, 'data'));
    await writeFile(path.join(dir, 'data', 'wine.csv'), 'id,title,price\n1,Good,10\n2,Cut\n3,Fine,\n');
    const { stderr } = await cli(dir);
    expect(stderr).toMatch(/\[ingest\] warning: .*wine\.csv:3: skipped malformed CSV record/);
    expect(stderr).toMatch(/\[ingest\] 2 chunks from 1 source, 1 malformed record skipped \(line 3\), 2 POVs -> /);
    expect((await readdir(path.join(dir, 'artifacts', 'p', 'ingest'))).sort()).toEqual(['chunks.arrow', 'povs.arrow', 'report.json']);
  });
});
