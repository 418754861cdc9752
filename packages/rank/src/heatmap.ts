import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { QuestionRanking } from './rank-retrieved.ts';
import { missingGlyphs, type HeatmapFonts } from './fonts.ts';

export interface HeatmapInput {
  ranking: QuestionRanking;
  /** The question text (the title); falls back to the question id. */
  title: string;
  /** Text of each POV, in the ranking's POV order. */
  povTexts: string[];
  /** Characters of chunk and POV text kept in the labels. */
  labelChars?: number;
  /** Font family the text is drawn in (the one the PNG rasteriser loads). */
  fontFamily?: string;
}

/** Collapses whitespace and cuts to `n` characters with an ellipsis. */
export function excerpt(text: string, n: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = [...flat];
  return chars.length <= n ? flat : chars.slice(0, n - 1).join('').trimEnd() + '…';
}

/** Splits a long title into lines of about `width` characters at spaces (CJK text, without spaces, is cut). */
export function wrapTitle(text: string, width = 90, maxLines = 3): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.replace(/\s+/g, ' ').trim().split(' ')) {
    let w = word;
    while ([...w].length > width) {
      if (line) { lines.push(line); line = ''; }
      lines.push([...w].slice(0, width).join(''));
      w = [...w].slice(width).join('');
    }
    if (!line) line = w;
    else if ([...line].length + 1 + [...w].length <= width) line += ' ' + w;
    else { lines.push(line); line = w; }
  }
  if (line) lines.push(line);
  if (lines.length > maxLines) return [...lines.slice(0, maxLines - 1), excerpt(lines.slice(maxLines - 1).join(' '), width)];
  return lines;
}

export function chunkLabel(c: { contextRank: number; similarityRank: number; povScore: number; text: string }, chars: number): string {
  return `#${c.contextRank} (ret ${c.similarityRank}, score ${c.povScore.toFixed(2)}) ${excerpt(c.text, chars)}`;
}

export function povLabel(j: number, text: string, chars: number): string {
  return `P${j + 1} ${excerpt(text, chars)}`;
}

/**
 * The seed 002 heatmap as a Vega-Lite spec: chunks in POV-score order down, POVs across,
 * colour and cell text = cosine (YlOrRd like seaborn's in the seed).
 */
export function heatmapSpec(input: HeatmapInput): TopLevelSpec {
  const chars = input.labelChars ?? 40;
  const rows = input.ranking.chunks.map((c) => chunkLabel(c, chars));
  const cols = input.povTexts.map((t, j) => povLabel(j, t, chars));
  const values = input.ranking.chunks.flatMap((c, i) => c.cosines.map((cos, j) => ({ chunk: rows[i], pov: cols[j], cosine: cos })));
  const cos = values.map((v) => v.cosine);
  const lo = Math.min(0, ...cos);
  const hi = Math.max(...cos, lo + 1e-6);
  const mid = (lo + hi) / 2;
  const font = input.fontFamily ? `${input.fontFamily}, sans-serif` : 'sans-serif';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: wrapTitle(input.title),
      subtitle: `Chunks by POV score (#) with retrieval rank (ret); colour = cosine(chunk, POV); score = L2 norm of the row`,
      anchor: 'start', fontSize: 14, subtitleFontSize: 11, subtitleColor: '#555',
    },
    data: { values },
    width: { step: 46 },
    height: { step: 24 },
    encoding: {
      x: { field: 'pov', type: 'nominal', sort: cols, title: null, axis: { labelAngle: -40, labelLimit: 260, labelFontSize: 10, orient: 'top' } },
      y: { field: 'chunk', type: 'nominal', sort: rows, title: null, axis: { labelLimit: 520, labelFontSize: 10 } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: {
          color: { field: 'cosine', type: 'quantitative', title: 'cosine', scale: { scheme: 'yelloworangered', domain: [lo, hi] } },
          tooltip: [{ field: 'chunk' }, { field: 'pov' }, { field: 'cosine', format: '.3f' }],
        },
      },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          text: { field: 'cosine', type: 'quantitative', format: '.2f' },
          color: { condition: { test: `datum.cosine > ${mid}`, value: 'white' }, value: 'black' },
        },
      },
    ],
    config: { font, view: { stroke: null } },
  } as TopLevelSpec;
}

type TextItem = { fontSize?: number; fontWeight?: string | number; limit?: number };

/**
 * Vega-Lite -> Vega -> SVG, headless (no browser, no canvas). Without a canvas Vega guesses text
 * widths as 0.8 em a character, which leaves label gaps and overlaps; with fonts given, widths are
 * measured from the very font the PNG is drawn with (Vega's documented hook, as vl-convert uses).
 */
export async function renderSvg(spec: TopLevelSpec, fonts?: HeatmapFonts | null): Promise<string> {
  // Exported by vega at run time (from vega-scenegraph) though its typings leave it out.
  const metrics = (vega as unknown as { textMetrics: { width: (item: TextItem, text?: string) => number } }).textMetrics;
  const before = metrics.width;
  if (fonts) {
    metrics.width = (item, text) => {
      const t = text == null ? '' : String(text).trim();
      const size = item.fontSize != null ? +item.fontSize || 0 : 11;
      const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
      const w = fonts.measure(t, size) * (bold ? 1.1 : 1);
      return item.limit && item.limit > 0 ? Math.min(w, item.limit) : w;
    };
  }
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
    metrics.width = before;
  }
}

/** How many PNG pixels per SVG unit: 2 keeps 10px labels sharp on high-density screens. */
export const PNG_SCALE = 2;

/** SVG -> PNG with resvg, using only the given fonts (system font discovery is slow and varies by machine). */
export function svgToPng(svg: string, fonts: HeatmapFonts, scale = PNG_SCALE): Uint8Array {
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: false, fontFiles: fonts.files, defaultFontFamily: fonts.family, sansSerifFamily: fonts.family },
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    logLevel: 'off',
  });
  return resvg.render().asPng();
}

export interface DrawnHeatmap {
  svg: string;
  /** Absent when no font was found: a PNG without its labels would mislead. */
  png?: Uint8Array;
  /** Characters in the title or labels that no loaded font can draw. */
  missingGlyphs: string[];
}

/** Spec, SVG and (with fonts) PNG for one question. */
export async function drawHeatmap(input: HeatmapInput, fonts: HeatmapFonts | null, opts: { png?: boolean } = {}): Promise<DrawnHeatmap> {
  const spec = heatmapSpec({ ...input, fontFamily: fonts?.family ?? input.fontFamily });
  const svg = await renderSvg(spec, fonts);
  const labels = [input.title, ...input.povTexts, ...input.ranking.chunks.map((c) => excerpt(c.text, input.labelChars ?? 40))].join(' ');
  const missing = fonts ? missingGlyphs(fonts, labels) : [];
  return { svg, png: fonts && opts.png !== false ? svgToPng(svg, fonts) : undefined, missingGlyphs: missing };
}
