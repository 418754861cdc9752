import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const datasets = path.resolve(repoRoot, '..', 'shared', 'datasets');
export const WINE_CSV = path.join(datasets, 'wine-reviews', 'winemag-data-130k-v2.sample.csv');
export const R1_PDF = path.join(datasets, 'deepseek-r1-paper', 'DeepSeek_R1.pdf');

export function tempDir(prefix = 'ingest-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/**
 * A one-page PDF written by hand (offsets computed, so the xref is valid) whose content stream
 * only draws a rectangle: a PDF without a text layer, like a scan. With `text` it shows that text.
 */
export function minimalPdf(text?: string): Buffer {
  const content = text
    ? `BT /F1 12 Tf 72 720 Td (${text}) Tj ET`
    : '0.5 g 72 500 200 100 re f';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
