import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { documentChunkId, readTextDocuments } from '../src/index.ts';
import { tempDir } from './helpers.ts';

describe('TXT/Markdown folders (seed 002: 1000/60)', () => {
  it('reads every .txt/.md below the folder in path order, splits each and keeps start indices', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'sub'));
    const para = (n: number) => `Paragraph ${n}. ` + 'G7 and BRICS trade policy. '.repeat(11);
    const long = Array.from({ length: 8 }, (_, i) => para(i)).join('\r\n\r\n');
    await writeFile(path.join(dir, 'b.txt'), long);
    await writeFile(path.join(dir, 'sub', 'a.md'), '# Title\n\nShort note.');
    await writeFile(path.join(dir, 'notes.json'), '{"ignored": true}');
    await writeFile(path.join(dir, '.hidden.txt'), 'ignored');
    const r = await readTextDocuments({ path: dir, source: 'docs', splitter: { chunkSize: 1000, chunkOverlap: 60 } });
    expect(r.files).toBe(2);
    const docs = [...new Set(r.chunks.map((c) => c.doc_id))];
    expect(docs).toEqual(['docs#b.txt', 'docs#sub/a.md']);
    const normalised = long.replace(/\r\n/g, '\n');
    const b = r.chunks.filter((c) => c.doc_id === 'docs#b.txt');
    // 8 paragraphs of 13 + 11 * 27 = 310 chars; the splitter keeps '\n\n' in front of the next one (312):
    // three make 310 + 312 + 312 = 934 <= 1000, a fourth would be 1246, and the overlap (60) cannot hold a paragraph.
    expect(b.map((c) => c.text.split('\n\n').length)).toEqual([3, 3, 2]);
    for (const c of b) expect(normalised.slice(c.start_index, c.start_index + c.text.length)).toBe(c.text);
    expect(b.map((c) => c.chunk_id)).toEqual([0, 1, 2].map((i) => documentChunkId('docs', 'b.txt', i)));
    expect(r.chunks.find((c) => c.doc_id === 'docs#sub/a.md')!.text).toBe('# Title\n\nShort note.');
  });

  it('says when a folder holds no text files', async () => {
    const dir = await tempDir();
    await expect(readTextDocuments({ path: dir, source: 'x', splitter: { chunkSize: 100, chunkOverlap: 0 } }))
      .rejects.toThrow(`${dir}: the folder holds no .txt/.md/.markdown files`);
  });
});
