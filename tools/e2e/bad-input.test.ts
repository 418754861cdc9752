import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOneError, root, runStage } from './stage-cli.ts';

// Bad input through the real stage commands: each case must end in exactly one `[stage] error:`
// line on stderr that names the file (and row/field or line:col), exit non-zero, and leave no
// stage folder and no temp folder behind in the artifacts folder.
const wine = path.resolve(root, '..', 'shared', 'datasets', 'wine-reviews', 'winemag-data-130k-v2.sample.csv');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ragrpo-bad-input-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const stage = runStage;

/** A case folder with its pipeline file; returns paths. */
function setup(name: string, yaml: string): { dir: string; pipeline: string; artifacts: string } {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const pipeline = path.join(dir, `${name}.yaml`);
  writeFileSync(pipeline, yaml);
  return { dir, pipeline, artifacts: path.join(dir, 'artifacts') };
}

/** Nothing of the failed stage is left: no stage folder, no `.<stage>.tmp-*` folder. */
function expectNoStageOutput(artifacts: string, pipelineName: string, stageName: string): void {
  const dir = path.join(artifacts, pipelineName);
  expect(existsSync(path.join(dir, stageName))).toBe(false);
  const left = existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(`.${stageName}.`) || f.includes('.tmp-')) : [];
  expect(left).toEqual([]);
}

const csvDoc = (file: string, template: string, extra = '') =>
  `    - kind: csv\n      path: ${JSON.stringify(file)}\n      template: ${JSON.stringify(template)}\n${extra}`;
const ingestOnly = (documents: string, more = '') => `ingest:\n  documents:\n${documents}${more}embed:\n  sparse: {}\n`;
const wineDoc = csvDoc(wine, '{title}: {description}', '      limit: 20\n');

/** One case: write its input, run ingest, check the one error line and that nothing was left. */
function ingestCase(name: string, yaml: string): string {
  const c = setup(name, yaml);
  const r = stage('ingest', c.pipeline, c.artifacts);
  const line = expectOneError(r, 'ingest');
  expectNoStageOutput(c.artifacts, name, 'ingest');
  return line;
}

/** A one-page PDF whose content stream only draws a line: valid, but with no text operators. */
function pdfWithoutText(): Buffer {
  const content = '0 0 1 RG 20 20 m 180 180 l S';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources << >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
  ];
  let out = '%PDF-1.4\n';
  const offsets = objects.map((o, i) => { const at = out.length; out += `${i + 1} 0 obj\n${o}\nendobj\n`; return at; });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

describe.skipIf(!existsSync(wine))('bad input through the stage commands', () => {
  it.concurrent('an empty CSV names the file', () => {
    const file = path.join(tmp, 'empty.csv');
    writeFileSync(file, '');
    expect(ingestCase('empty', ingestOnly(csvDoc(file, '{text}')))).toBe(`[ingest] error: ${file}: the file is empty`);
  });

  it.concurrent('a binary file named .csv is refused as binary, with the offset', () => {
    const file = path.join(tmp, 'binary.csv');
    // Bytes 0..255 repeated: a NUL at offset 0, then every byte value.
    writeFileSync(file, Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256)));
    const line = ingestCase('binary', ingestOnly(csvDoc(file, '{text}')));
    expect(line).toContain(`${file}: looks like a binary file`);
    expect(line).toContain('NUL byte at offset 0');
  });

  it.concurrent('a Latin-1 CSV is refused as non-UTF-8 with the byte, offset and line', () => {
    const file = path.join(tmp, 'latin1.csv');
    writeFileSync(file, Buffer.concat([Buffer.from('id,text\n1,caf'), Buffer.from([0xe9]), Buffer.from(' au lait\n')]));
    const line = ingestCase('latin1', ingestOnly(csvDoc(file, '{text}')));
    expect(line).toContain(`${file}: not valid UTF-8 (byte 0xe9 at offset 13, line 2)`);
  });

  it.concurrent('a PDF with no text layer says it needs OCR', () => {
    const file = path.join(tmp, 'scan.pdf');
    writeFileSync(file, pdfWithoutText());
    const line = ingestCase('scan', ingestOnly(`    - kind: pdf\n      path: ${JSON.stringify(file)}\n`));
    expect(line).toContain(`${file}: the PDF has no text layer`);
    expect(line).toMatch(/OCR/);
  });

  it.concurrent('an XLSX questions sheet without the question column names the sheet and columns found', async () => {
    const file = path.join(tmp, 'questions.xlsx');
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('questions');
    ws.addRow(['id', 'prompt']);
    ws.addRow(['q1', 'What is GRPO?']);
    await wb.xlsx.writeFile(file);
    const line = ingestCase('xlsx', ingestOnly(wineDoc, `  questions:\n    path: ${JSON.stringify(file)}\n`));
    expect(line).toContain(`${file}, sheet 'questions': no column 'question'`);
    expect(line).toContain('columns found: id, prompt');
  });

  it.concurrent('a YAML typo (unknown key) points at file:line:col', () => {
    const yaml = `${ingestOnly(wineDoc)}  sparce: {}\n`;
    const keyLine = yaml.split('\n').indexOf('  sparce: {}') + 1;
    const line = ingestCase('typo', yaml);
    expect(line).toBe(`[ingest] error: ${path.join(tmp, 'typo', 'typo.yaml')}:${keyLine}:3: unknown key 'embed.sparce' (did you mean 'sparse'?)`);
  });

  it.concurrent('a chunk overlap not smaller than the chunk size points at the key', () => {
    const yaml = ingestOnly(wineDoc, '  splitter:\n    chunk_size: 100\n    chunk_overlap: 100\n');
    const keyLine = yaml.split('\n').indexOf('    chunk_overlap: 100') + 1;
    const line = ingestCase('overlap', yaml);
    expect(line).toContain(`${path.join(tmp, 'overlap', 'overlap.yaml')}:${keyLine}:`);
    expect(line).toContain('ingest.splitter.chunk_overlap: must be smaller than chunk_size');
  });

  it.concurrent('a missing dense model folder stops the first stage at once, naming it and what to set', () => {
    const model = path.join(tmp, 'no-such-model');
    const c = setup('nomodel', `ingest:\n  documents:\n${wineDoc}embed:\n  dense:\n    model: ${JSON.stringify(model)}\n`);
    const line = expectOneError(stage('ingest', c.pipeline, c.artifacts), 'ingest');
    expect(line).toContain(`embed.dense.model '${model}' is not on this machine (nothing at ${model})`);
    expect(line).toContain('set embed.dense.allow_remote: true with network access. Checked before any stage runs');
    expectNoStageOutput(c.artifacts, 'nomodel', 'ingest');
  });

  it.concurrent('an unreachable Qdrant names the URL and the way back to the embedded store', () => {
    const questions = path.join(root, 'datasets', 'wine-questions.jsonl');
    const c = setup('qdrant', `ingest:\n  documents:\n${wineDoc}  questions:\n    path: ${JSON.stringify(questions)}\n    limit: 3\n`
      + 'embed:\n  sparse: {}\nindex:\n  store: qdrant\n  qdrant:\n    url: http://127.0.0.1:9\n    retries: 0\n');
    expect(stage('ingest', c.pipeline, c.artifacts).status).toBe(0);
    expect(stage('embed', c.pipeline, c.artifacts).status).toBe(0);
    const line = expectOneError(stage('index', c.pipeline, c.artifacts), 'index');
    expect(line).toContain('cannot reach Qdrant at http://127.0.0.1:9');
    expect(line).toContain('index.qdrant.url');
    expectNoStageOutput(c.artifacts, 'qdrant', 'index');
  });
});
