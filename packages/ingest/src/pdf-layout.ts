/** A pdf.js text item, reduced to what layout needs. */
export interface PdfTextItem {
  str: string;
  hasEOL: boolean;
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Line { y: number; height: number; text: string; x0: number; x1: number }

/**
 * Turns one page's text items into text with '\n' between lines and '\n\n' between paragraphs
 * (a vertical gap clearly larger than the page's usual line spacing), so the recursive splitter's
 * paragraph separator has something to find. pdf.js gives items but no paragraphs; this is the
 * small layout step it leaves to callers.
 *
 * 'stream' keeps the content-stream order (what pdfTeX writes: reading order) and pdf.js's line
 * ends; 'position' re-orders items top-to-bottom, left-to-right, reading a two-column page column by column.
 */
export function layoutPage(items: PdfTextItem[], order: 'stream' | 'position', pageWidth: number): string {
  const lines = order === 'stream' ? streamLines(items) : positionLines(items, pageWidth);
  return joinLines(lines);
}

function streamLines(items: PdfTextItem[]): Line[] {
  const lines: Line[] = [];
  let cur: Line | null = null;
  const end = () => { if (cur && cur.text.trim()) lines.push(cur); cur = null; };
  for (const it of items) {
    if (it.str) {
      // pdf.js normally flags line ends; a baseline jump without one is a line end too.
      if (cur && Math.abs(it.y - cur.y) > Math.max(cur.height, it.height) * 0.9 && it.height > 0) end();
      if (!cur) cur = { y: it.y, height: it.height, text: '', x0: it.x, x1: it.x + it.width };
      cur.text += it.str;
      cur.height = Math.max(cur.height, it.height);
      cur.x1 = Math.max(cur.x1, it.x + it.width);
    }
    if (it.hasEOL) end();
  }
  end();
  return lines;
}

function positionLines(items: PdfTextItem[], pageWidth: number): Line[] {
  const real = items.filter((i) => i.str.trim() !== '' && i.height > 0);
  const columns = splitColumns(real, pageWidth);
  return columns.flatMap((col) => groupByBaseline(col));
}

/** Two columns when a vertical band around the page middle is crossed by (almost) no item and both sides hold text. */
function splitColumns(items: PdfTextItem[], pageWidth: number): PdfTextItem[][] {
  if (items.length < 20) return [items];
  const mid = pageWidth / 2;
  const crossing = items.filter((i) => i.x < mid - 2 && i.x + i.width > mid + 2).length;
  const left = items.filter((i) => i.x + i.width <= mid + 2);
  const right = items.filter((i) => i.x >= mid - 2);
  if (crossing <= items.length * 0.05 && left.length > items.length * 0.25 && right.length > items.length * 0.25) {
    const spanning = items.filter((i) => !left.includes(i) && !right.includes(i));
    return [[...spanning, ...left], right];
  }
  return [items];
}

function groupByBaseline(items: PdfTextItem[]): Line[] {
  const sorted = [...items].sort((a, b) => b.y - a.y || a.x - b.x);
  const groups: PdfTextItem[][] = [];
  for (const it of sorted) {
    const g = groups[groups.length - 1];
    // Sub- and superscripts sit a little off the baseline: same line while within half a line height.
    if (g && Math.abs(g[0].y - it.y) < Math.max(g[0].height, it.height) * 0.5) g.push(it);
    else groups.push([it]);
  }
  return groups.map((g) => {
    g.sort((a, b) => a.x - b.x);
    let text = '';
    let prevEnd = -Infinity;
    for (const it of g) {
      const gap = it.x - prevEnd;
      if (text && gap > it.height * 0.15 && !/\s$/.test(text) && !/^\s/.test(it.str)) text += ' ';
      text += it.str;
      prevEnd = it.x + it.width;
    }
    return { y: g[0].y, height: Math.max(...g.map((i) => i.height)), text, x0: g[0].x, x1: prevEnd };
  });
}

function joinLines(lines: Line[]): string {
  if (lines.length === 0) return '';
  const gaps: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const g = lines[i - 1].y - lines[i].y;
    if (g > 0) gaps.push(g);
  }
  gaps.sort((a, b) => a - b);
  const usual = gaps.length ? gaps[Math.floor(gaps.length / 2)] : Infinity;
  let out = lines[0].text.trimEnd();
  for (let i = 1; i < lines.length; i++) {
    const g = lines[i - 1].y - lines[i].y;
    // Moving up the page means a new column or a float: treat it as a paragraph break too.
    const paragraph = g < 0 || g > usual * 1.45;
    out += (paragraph ? '\n\n' : '\n') + lines[i].text.trimEnd();
  }
  return out;
}
