import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanPdfText, extractPdfText, layoutPage, pageAt, readPdfDocuments, type ChunkRow, type PdfText } from '../src/index.ts';
import { R1_PDF, minimalPdf, tempDir } from './helpers.ts';

const OPTS = { order: 'position' as const, dehyphenate: true, unicode: 'nfkc' as const };

describe('DeepSeek-R1 paper (seed 003: 1000/50)', () => {
  let doc: PdfText;
  let chunks: ChunkRow[];
  beforeAll(async () => {
    doc = await extractPdfText(R1_PDF, OPTS);
    chunks = (await readPdfDocuments({ path: R1_PDF, source: 'paper.pdf', splitter: { chunkSize: 1000, chunkOverlap: 50 }, ...OPTS })).chunks;
  });

  it('reads all 22 pages with text, in order', () => {
    expect(doc.pages).toBe(22);
    expect(doc.emptyPages).toEqual([]);
    expect(doc.text.indexOf('Abstract')).toBeLessThan(doc.text.indexOf('1. Introduction'));
    expect(doc.text.indexOf('2.2.1. Reinforcement Learning Algorithm')).toBeLessThan(doc.text.indexOf('2.2.2. Reward Modeling'));
  });

  it('has no ligature characters and keeps the GRPO definition in a chunk', () => {
    expect(chunks.some((c) => /[\uFB00-\uFB06]/.test(c.text))).toBe(false);
    const grpo = chunks.filter((c) => c.text.includes('Group Relative Policy Optimization'));
    expect(grpo.length).toBeGreaterThan(0);
    expect(grpo.some((c) => c.page === 5)).toBe(true); // section 2.2.1 is on page 5 of the paper
    // Words hyphenated at line ends are joined: the paper breaks "ev-idenced" on page 5.
    expect(doc.text).toContain('as evidenced by our previous works');
    expect(doc.text).not.toMatch(/\p{Ll}-\n\p{Ll}/u);
  });

  it('gives real start indices, sizes within 1000 and pages that follow the text', () => {
    for (const c of chunks) {
      expect(doc.text.slice(c.start_index, c.start_index + c.text.length)).toBe(c.text);
      expect(c.text.length).toBeLessThanOrEqual(1000);
      expect(c.page).toBe(pageAt(doc.pageStarts, c.start_index));
    }
    const pages = chunks.map((c) => c.page!);
    expect(pages[0]).toBe(1);
    const last = chunks[chunks.length - 1];
    expect(pageAt(doc.pageStarts, last.start_index + last.text.length - 1)).toBe(22); // the text runs to the last page
    expect(pages.every((p, i) => i === 0 || p >= pages[i - 1])).toBe(true);
    expect(chunks.map((c) => c.chunk_index)).toEqual(chunks.map((_, i) => i));
  });
});

describe('PDF text clean-up and layout', () => {
  it('expands ligatures, joins hyphenated line breaks, folds math letters and keeps real hyphens', () => {
    const raw = 'ﬁne-tuning with ﬂexible eﬀort, ﬃ ﬄ\nGroup Relative Policy Optimiza-\ntion for 𝑞 and DeepSeek-\nR1\u0012 end';
    expect(cleanPdfText(raw, { dehyphenate: true, unicode: 'nfkc' }))
      .toBe('fine-tuning with flexible effort, ffi ffl\nGroup Relative Policy Optimization for q and DeepSeek-\nR1 end');
    expect(cleanPdfText('ﬁ 𝑞', { dehyphenate: false, unicode: 'none' })).toBe('fi 𝑞');
  });

  it('reads a two-column page column by column and marks paragraph gaps', () => {
    const item = (str: string, x: number, y: number) => ({ str, hasEOL: false, x, y, width: str.length * 5, height: 10 });
    const items = [];
    // Content stream interleaves the columns line by line (as some generators write them).
    for (let i = 0; i < 12; i++) {
      items.push(item(`left ${i}`, 50, 700 - i * 12 - (i >= 6 ? 12 : 0)));
      items.push(item(`right ${i}`, 320, 700 - i * 12));
    }
    const text = layoutPage(items, 'position', 612);
    const lines = text.split('\n');
    expect(lines.slice(0, 6)).toEqual(['left 0', 'left 1', 'left 2', 'left 3', 'left 4', 'left 5']);
    expect(text).toContain('left 5\n\nleft 6'); // the extra 12pt gap is a paragraph break
    expect(text.indexOf('left 11')).toBeLessThan(text.indexOf('right 0'));
  });

  it('maps offsets to pages, skipping pages without text', () => {
    expect(pageAt([0, 10, 10, 25], 0)).toBe(1);
    expect(pageAt([0, 10, 10, 25], 12)).toBe(3);
    expect(pageAt([0, 10, 10, 25], 30)).toBe(4);
  });

  it('reads a hand-made text PDF and rejects one without a text layer, saying it needs OCR', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'text.pdf'), minimalPdf('Hello PDF world'));
    expect((await extractPdfText(path.join(dir, 'text.pdf'), OPTS)).text).toBe('Hello PDF world');
    await writeFile(path.join(dir, 'scan.pdf'), minimalPdf());
    await expect(extractPdfText(path.join(dir, 'scan.pdf'), OPTS)).rejects.toThrow(/scan\.pdf: the PDF has no text layer .* it needs OCR/);
  });
});
