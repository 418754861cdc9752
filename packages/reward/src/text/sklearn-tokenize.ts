/**
 * scikit-learn's default word analyzer for TfidfVectorizer / CountVectorizer: `doc.lower()`, then
 * `re.findall(r"(?u)\b\w\w+\b", doc)`, then stop words dropped (compared after lower-casing).
 *
 * `\b\w\w+\b` with a greedy `\w+` matches exactly the maximal runs of word characters that are at
 * least two code points long (a shorter run fails its closing `\b`, and a match cannot start inside
 * a run), so the runs are found directly with Python's `\w` class rather than JavaScript's ASCII `\b`.
 */
import { PY_WORD_CHAR } from './python-text.ts';

const WORD_RUN = new RegExp(`${PY_WORD_CHAR}+`, 'gu');

/** Tokens of `doc` as scikit-learn's default analyzer yields them, in order, stop words removed. */
export function sklearnTokens(doc: string, stopWords: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  for (const m of doc.toLowerCase().matchAll(WORD_RUN)) {
    const token = m[0];
    // Length in code points, as Python counts: an astral letter is one character, not two.
    if ([...token].length >= 2 && !stopWords.has(token)) out.push(token);
  }
  return out;
}
