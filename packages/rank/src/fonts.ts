import { existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as fontkit from 'fontkit';

/** The fonts a heatmap is drawn and rasterised with; `family` is what the SVG names. */
export interface HeatmapFonts {
  files: string[];
  family: string;
  /** Whether some loaded font has a glyph for the character. */
  covers(codePoint: number): boolean;
  /** Advance width of `text` at `fontSize` px, each character from the first font that has it. */
  measure(text: string, fontSize: number): number;
}

interface FontFace {
  familyName?: string;
  unitsPerEm: number;
  hasGlyphForCodePoint(cp: number): boolean;
  glyphForCodePoint(cp: number): { advanceWidth: number };
}

// Plain sans fonts that Debian/Ubuntu/Fedora/Alpine/macOS ship; tried in this order before a folder scan.
const WELL_KNOWN = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
  '/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf',
  '/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf',
  '/usr/share/fonts/noto/NotoSans-Regular.ttf',
  '/System/Library/Fonts/Supplemental/Arial.ttf',
  '/Library/Fonts/Arial.ttf',
];

const FONT_DIRS = ['/usr/share/fonts', '/usr/local/share/fonts', path.join(os.homedir(), '.fonts'), path.join(os.homedir(), '.local/share/fonts')];

type LoadedFont = { file: string; family: string; font: FontFace };

function openFont(file: string): LoadedFont | null {
  try {
    const f = fontkit.openSync(file) as unknown as FontFace & { fonts?: FontFace[] };
    // A .ttc collection: use its first face for the family name and glyph coverage.
    const face = f.fonts?.[0] ?? f;
    if (!face.familyName || typeof face.hasGlyphForCodePoint !== 'function') return null;
    return { file, family: face.familyName, font: face };
  } catch {
    return null;
  }
}

/** Regular-weight upright fonts first: a heatmap of bold italic labels is hard to read. */
function scanFontDirs(dirs: string[], limit = 400): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 4 || found.length >= limit) return;
    let names: string[];
    try { names = readdirSync(dir).sort(); } catch { return; }
    for (const n of names) {
      const p = path.join(dir, n);
      let st;
      try { st = statSync(p); } catch { continue; }
      if (st.isDirectory()) walk(p, depth + 1);
      else if (/\.(ttf|otf|ttc)$/i.test(n)) found.push(p);
    }
  };
  for (const d of dirs) walk(d, 0);
  const plain = (p: string) => (/(bold|italic|oblique|light|thin|black|condensed|mono)/i.test(path.basename(p)) ? 1 : 0);
  return found.sort((a, b) => plain(a) - plain(b) || a.localeCompare(b));
}

/**
 * Finds fonts for the heatmap: the configured files first (e.g. a CJK font for Japanese POVs), then a
 * well-known system sans font, else the first readable font under the system font folders.
 * Returns null when there is none: the caller then writes SVG only, since resvg draws no text without a font.
 */
export function findHeatmapFonts(
  extraFiles: readonly string[] = [],
  search: { files?: readonly string[]; dirs?: readonly string[] } = {},
): { fonts: HeatmapFonts | null; warnings: string[] } {
  const warnings: string[] = [];
  const loaded: LoadedFont[] = [];
  for (const f of extraFiles) {
    const font = existsSync(f) ? openFont(f) : null;
    if (font) loaded.push(font);
    else warnings.push(`font '${f}' (rank.heatmap.fonts) is missing or not a TrueType/OpenType font; skipping it`);
  }
  // One general fallback font after the configured ones; the folder scan only runs when no well-known one exists.
  const addFirst = (files: readonly string[]) => {
    for (const f of files) {
      if (loaded.some((l) => l.file === f) || !existsSync(f)) continue;
      const font = openFont(f);
      if (font) { loaded.push(font); return true; }
    }
    return false;
  };
  if (!addFirst(search.files ?? WELL_KNOWN)) addFirst(scanFontDirs([...(search.dirs ?? FONT_DIRS)]));
  if (loaded.length === 0) return { fonts: null, warnings };
  return {
    fonts: {
      files: loaded.map((l) => l.file),
      family: loaded[0].family,
      covers: (cp) => loaded.some((l) => l.font.hasGlyphForCodePoint(cp)),
      measure: (text, fontSize) => measureText(loaded, text, fontSize),
    },
    warnings,
  };
}

/** The distinct characters of `text` that no loaded font can draw (whitespace and controls aside). */
export function missingGlyphs(fonts: HeatmapFonts, text: string): string[] {
  const missing = new Set<string>();
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x20 || /\s/.test(ch)) continue;
    if (!fonts.covers(cp)) missing.add(ch);
  }
  return [...missing];
}

const widthCache = new Map<string, number>();

function measureText(loaded: LoadedFont[], text: string, fontSize: number): number {
  let em = widthCache.get(text);
  if (em === undefined) {
    em = 0;
    for (const ch of text) {
      const cp = ch.codePointAt(0) ?? 0;
      const face = (loaded.find((l) => l.font.hasGlyphForCodePoint(cp)) ?? loaded[0]).font;
      em += face.glyphForCodePoint(cp).advanceWidth / face.unitsPerEm;
    }
    if (widthCache.size > 10_000) widthCache.clear();
    widthCache.set(text, em);
  }
  return em * fontSize;
}
