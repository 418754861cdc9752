import { describe, expect, it } from 'vitest';
import { splitText } from '../src/index.ts';

describe('splitText (LangChain RecursiveCharacterTextSplitter + add_start_index)', () => {
  it('matches a hand-worked split: size 10, overlap 5 on five 4-letter words', async () => {
    // Splits on ' ' keep the separator in front: [aaaa][ bbbb][ cccc][ dddd][ eeee] (4,5,5,5,5 chars).
    // Merge: aaaa+ bbbb = 9 <= 10; adding ' cccc' would be 14 > 10 -> emit "aaaa bbbb", drop from the
    // front while the kept part > overlap 5 (drop aaaa: 5 left) -> " bbbb cccc" -> trimmed "bbbb cccc", and so on.
    const text = 'aaaa bbbb cccc dddd eeee';
    const pieces = await splitText(text, { chunkSize: 10, chunkOverlap: 5 });
    expect(pieces).toEqual([
      { text: 'aaaa bbbb', start: 0 },
      { text: 'bbbb cccc', start: 5 },
      { text: 'cccc dddd', start: 10 },
      { text: 'dddd eeee', start: 15 },
    ]);
  });

  it('prefers paragraph breaks, then lines, and keeps each piece within the size', async () => {
    // Paragraph 1 (17 chars) and paragraph 2 (16 chars) together (35 with the break) exceed 20:
    // they become separate pieces; the 29-char paragraph 3 is cut at its single line break.
    // Starts: 17 + 2 = 19; 19 + 16 + 2 = 37; 37 + 17 + 1 = 55.
    const text = 'first paragraph A\n\nsecond paragraph\n\nline one of three\nline two ok';
    const pieces = await splitText(text, { chunkSize: 20, chunkOverlap: 0 });
    expect(pieces.map((p) => p.text)).toEqual(['first paragraph A', 'second paragraph', 'line one of three', 'line two ok']);
    expect(pieces.map((p) => p.start)).toEqual([0, 19, 37, 55]);
  });

  it('honours custom separators', async () => {
    const pieces = await splitText('a|b|c', { chunkSize: 2, chunkOverlap: 0, separators: ['|'] });
    expect(pieces.map((p) => p.text)).toEqual(['a', '|b', '|c']);
    expect(pieces.map((p) => p.start)).toEqual([0, 1, 3]);
  });

  it('start indices are offsets into the document on longer text', async () => {
    const words = Array.from({ length: 400 }, (_, i) => `w${i}${i % 17 === 0 ? '.\n\n' : ' '}`).join('');
    const pieces = await splitText(words, { chunkSize: 120, chunkOverlap: 30 });
    for (const p of pieces) {
      expect(words.slice(p.start, p.start + p.text.length)).toBe(p.text);
      expect(p.text.length).toBeLessThanOrEqual(120);
    }
    for (let i = 1; i < pieces.length; i++) {
      // Overlap never exceeds the setting: the next piece starts at most 30 chars before the previous end.
      expect(pieces[i].start).toBeGreaterThanOrEqual(pieces[i - 1].start + pieces[i - 1].text.length - 30);
      expect(pieces[i].start).toBeGreaterThan(pieces[i - 1].start);
    }
  });
});
