import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { getDocumentProxy } from 'unpdf';
import { listFiles } from './list-files.ts';
import { layoutPage, type PdfTextItem } from './pdf-layout.ts';
import { cleanPdfText, type CleanupOptions } from './pdf-text-cleanup.ts';
import { documentChunkId } from './ids.ts';
import { splitText, type SplitterOptions } from './split-text.ts';
import type { ChunkRow, ReadHooks } from './types.ts';

export interface PdfText {
  /** The whole document: pages joined by a blank line. */
  text: string;
  /** Character offset where each page (1-based page = index + 1) starts in `text`. */
  pageStarts: number[];
  pages: number;
  emptyPages: number[];
}

export interface PdfExtractOptions extends CleanupOptions {
  order: 'stream' | 'position';
}

/** Extracts a PDF's text layer with pdf.js (through unpdf) in reading order, cleaned, with page offsets. */
export async function extractPdfText(file: string, opts: PdfExtractOptions, hooks: ReadHooks = {}): Promise<PdfText> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${file}: ${code === 'ENOENT' ? 'not found (the PDF path is resolved against the workspace root)' : `cannot read the PDF (${code})`}`);
  }
  if (bytes.length === 0) throw new Error(`${file}: the file is empty`);
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  if (!head.includes('%PDF-')) throw new Error(`${file}: not a PDF (no %PDF- header); check the path or the file type`);
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    pdf = await getDocumentProxy(bytes, { verbosity: 0 } as never);
  } catch (err) {
    throw new Error(`${file}: cannot open the PDF (${(err as Error).message}); it may be damaged or encrypted`);
  }
  const progress = hooks.progress?.(`pdf pages ${path.basename(file)}`, pdf.numPages, 'pages');
  const pages: string[] = [];
  const emptyPages: number[] = [];
  for (let p = 1; p <= pdf.numPages; p++) {
    const page = await pdf.getPage(p);
    const content = await page.getTextContent();
    const items: PdfTextItem[] = [];
    for (const raw of content.items) {
      if (!('str' in raw)) continue;
      items.push({ str: raw.str, hasEOL: raw.hasEOL, x: raw.transform[4], y: raw.transform[5], width: raw.width, height: raw.height });
    }
    const text = cleanPdfText(layoutPage(items, opts.order, page.getViewport({ scale: 1 }).width), opts);
    if (!text) emptyPages.push(p);
    pages.push(text);
    page.cleanup();
    progress?.tick();
  }
  await pdf.destroy();
  progress?.done();
  if (emptyPages.length === pages.length) {
    throw new Error(`${file}: the PDF has no text layer (${pages.length} page${pages.length === 1 ? '' : 's'} of images, e.g. a scan); it needs OCR first, e.g. ocrmypdf ${path.basename(file)} ocr.pdf`);
  }
  if (emptyPages.length) hooks.warn?.(`${file}: no text on page${emptyPages.length === 1 ? '' : 's'} ${emptyPages.join(', ')} (images only; OCR them to include their text)`);
  const pageStarts: number[] = [];
  let text = '';
  pages.forEach((t, i) => {
    if (i > 0 && text && t) text += '\n\n';
    pageStarts.push(text.length);
    text += t;
  });
  return { text, pageStarts, pages: pages.length, emptyPages };
}

/** The 1-based page holding character `offset` of the joined document. */
export function pageAt(pageStarts: number[], offset: number): number {
  let lo = 0;
  let hi = pageStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (pageStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  // Empty pages share their start with the next page: report the last page starting at or before the offset that has text.
  return lo + 1;
}

export interface PdfDocumentOptions extends PdfExtractOptions {
  path: string;
  source: string;
  splitter: SplitterOptions;
}

/** PDF(s) split into chunks with the page each chunk starts on (seed 003). */
export async function readPdfDocuments(opts: PdfDocumentOptions, hooks: ReadHooks = {}): Promise<{ chunks: ChunkRow[]; files: number; pages: number }> {
  const files = await listFiles(opts.path, ['.pdf'], 'PDF');
  const chunks: ChunkRow[] = [];
  let pages = 0;
  for (const file of files) {
    const doc = await extractPdfText(file, opts, hooks);
    pages += doc.pages;
    const rel = files.length === 1 && file === opts.path ? path.basename(file) : path.relative(opts.path, file).split(path.sep).join('/');
    const pieces = await splitText(doc.text, opts.splitter);
    pieces.forEach((p, i) => chunks.push({
      chunk_id: documentChunkId(opts.source, rel, i), doc_id: `${opts.source}#${rel}`, source: opts.source,
      text: p.text, start_index: p.start, chunk_index: i, page: pageAt(doc.pageStarts, p.start),
      metadata: JSON.stringify({ file: rel, pages: doc.pages }),
    }));
  }
  return { chunks, files: files.length, pages };
}
