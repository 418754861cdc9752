const LIGATURES: Record<string, string> = {
  '\uFB00': 'ff', '\uFB01': 'fi', '\uFB02': 'fl', '\uFB03': 'ffi', '\uFB04': 'ffl', '\uFB05': 'st', '\uFB06': 'st',
};

export interface CleanupOptions {
  dehyphenate: boolean;
  unicode: 'nfkc' | 'nfc' | 'none';
}

/**
 * Repairs what PDF extraction does to running text: typographic ligatures become letters (so
 * "ﬁne-tuning" matches "fine-tuning"), words hyphenated across a line break are joined
 * ("optimiza-\ntion" -> "optimization", only lower-case on both sides so "DeepSeek-\nR1" stays),
 * soft hyphens go, runs of spaces shrink, and NFKC folds presentation forms (math italic 𝑞 -> q,
 * full-width digits) that would otherwise never match a typed query.
 */
export function cleanPdfText(text: string, opts: CleanupOptions): string {
  let t = text.replace(/[\uFB00-\uFB06]/g, (c) => LIGATURES[c]);
  if (opts.unicode !== 'none') t = t.normalize(opts.unicode === 'nfkc' ? 'NFKC' : 'NFC');
  // Soft hyphens, and control characters that TeX's extension-font glyphs (big brackets) map to.
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  t = t.replace(/[\u00AD\u0000-\u0008\u000B-\u001F\u007F]/g, '');
  if (opts.dehyphenate) t = t.replace(/(\p{Ll})-\n(?=\p{Ll})/gu, '$1');
  t = t.replace(/[ \t\u00A0]+/g, ' ').replace(/ +\n/g, '\n').replace(/\n /g, '\n').replace(/\n{3,}/g, '\n\n');
  return t.trim();
}
