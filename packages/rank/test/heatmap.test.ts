import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { drawHeatmap, excerpt, findHeatmapFonts, missingGlyphs, PNG_SCALE, renderIndexHtml, safeFileName, wrapTitle, type QuestionRanking } from '../src/index.ts';

const ranking: QuestionRanking = {
  questionId: 'q/1',
  chunks: [
    { chunkId: 'b', text: 'Bright acidity with notes of lemon and green apple.', contextRank: 1, blendedScore: 1, povRank: 1, similarityRank: 2, povScore: 1, similarity: 0.8, inContext: true, cosines: [0.71, 0.71] },
    { chunkId: 'a', text: 'Tannic red with dark cherry & <oak> finish.', contextRank: 2, blendedScore: 0.4, povRank: 2, similarityRank: 1, povScore: 0.6, similarity: 0.9, inContext: false, cosines: [0.6, 0] },
  ],
};
const input = { ranking, title: 'Which white wines pair with grilled fish', povTexts: ['Acidity matters more than sweetness', 'Colonial history of the wine trade'] };

/** Width and height from a PNG's IHDR chunk (bytes 16..23, big-endian), after checking the signature. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(Buffer.from(png.subarray(12, 16)).toString('ascii')).toBe('IHDR');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

describe('heatmap', () => {
  const { fonts } = findHeatmapFonts();

  it('finds a system font (CI installs fonts-dejavu-core)', () => {
    expect(fonts, 'no .ttf/.otf under /usr/share/fonts: apt-get install fonts-dejavu-core').not.toBeNull();
    expect(fonts!.family.length).toBeGreaterThan(0);
    expect(fonts!.measure('MM', 10)).toBeGreaterThan(fonts!.measure('ii', 10));
  });

  it('draws an SVG with the question as title, the POV labels and the cosine values', async () => {
    const { svg } = await drawHeatmap(input, fonts);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Which white wines pair with grilled fish');
    expect(svg).toContain('P1 Acidity matters more than sweetness');
    expect(svg).toContain('P2 Colonial history of the wine trade');
    expect(svg).toContain('#1 (ret 2, score 1.00) Bright acidity');
    expect(svg).toContain('&lt;oak&gt;'); // chunk text is escaped, not injected as markup
    expect(svg).toContain('>0.71<');
  });

  it('rasterises it to a PNG twice the SVG size', async () => {
    const { svg, png } = await drawHeatmap(input, fonts);
    const w = Number(/width="(\d+(?:\.\d+)?)"/.exec(svg)![1]);
    const h = Number(/height="(\d+(?:\.\d+)?)"/.exec(svg)![1]);
    expect(w).toBeGreaterThan(200);
    const size = pngSize(png!);
    expect(size.width).toBe(Math.round(w * PNG_SCALE));
    expect(size.height).toBe(Math.round(h * PNG_SCALE));
  });

  it('falls back to SVG only when no font exists', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'rank-nofonts-'));
    const none = findHeatmapFonts([path.join(empty, 'missing.ttf')], { files: [], dirs: [empty] });
    expect(none.fonts).toBeNull();
    expect(none.warnings[0]).toMatch(/missing\.ttf.*rank\.heatmap\.fonts/);
    const drawn = await drawHeatmap(input, none.fonts);
    expect(drawn.png).toBeUndefined();
    expect(drawn.svg).toContain('Which white wines pair with grilled fish');
  });

  it('reports characters the fonts cannot draw', () => {
    // DejaVu Sans has Latin but no Japanese kanji; a kanji-free label has nothing missing.
    expect(missingGlyphs(fonts!, 'Acidity é')).toEqual([]);
    if (fonts!.family === 'DejaVu Sans') expect(missingGlyphs(fonts!, '植民地 x')).toEqual(['植', '民', '地']);
  });

  it('shortens labels and wraps long titles', () => {
    expect(excerpt('a  b\n c', 10)).toBe('a b c');
    expect(excerpt('abcdefghijkl', 6)).toBe('abcde…');
    expect(wrapTitle('one two three four', 9)).toEqual(['one two', 'three', 'four']);
  });
});

describe('index.html and file names', () => {
  it('lists both orders, the image and escapes text', () => {
    const html = renderIndexHtml({
      pipeline: 'demo', vectors: 'dense', topN: 1, povWeight: 1, goldInContext: { questions: 2, share: 0.5, byPovWeight: [{ povWeight: 0, share: 1 }, { povWeight: 1, share: 0.5 }] }, povs: [{ id: 'p1', text: 'Acidity' }],
      questions: [{ ranking, question: 'Fish <wine>?', image: 'heatmaps/q_1-abc.png' }, { ranking: { questionId: 'q2', chunks: [] }, question: 'Empty one' }],
    });
    expect(html).toContain('Fish &lt;wine&gt;?');
    expect(html).toContain('src="heatmaps/q_1-abc.png"');
    expect(html).toContain('Similarity order (retrieval)');
    expect(html).toContain('POV order (re-ranked)');
    expect(html).toContain('No chunks were retrieved');
    // The similarity table lists chunk a (ret 1) before b; the POV table b before a.
    const [simPart, povPart] = html.split('POV order (re-ranked)');
    expect(simPart.lastIndexOf('Tannic')).toBeLessThan(simPart.lastIndexOf('Bright'));
    expect(povPart.indexOf('Bright')).toBeLessThan(povPart.indexOf('Tannic'));
  });

  it('makes safe, distinct file names', () => {
    expect(safeFileName('q-001')).toBe('q-001');
    expect(safeFileName('q/1')).toMatch(/^q_1-[0-9a-f]{8}$/);
    expect(safeFileName('q/1')).not.toBe(safeFileName('q_1'));
    expect(safeFileName('../x')).not.toContain('/');
    expect(safeFileName('../x').startsWith('.')).toBe(false);
  });
});
