/**
 * SQuAD v1.1's answer normalisation (the official evaluate-v1.1.py `normalize_answer`): lower-case,
 * drop ASCII punctuation, remove the articles a/an/the as whole words, collapse whitespace. Written
 * with Python's semantics (Unicode-aware word boundaries, Python's whitespace set) so the results
 * equal the script's; tools/reference/reward_squad_fixtures.py checks that.
 */
import { PY_ASCII_PUNCTUATION, PY_WORD_CHAR, pySplit } from './python-text.ts';

const PUNCTUATION = new Set(PY_ASCII_PUNCTUATION);
// Python's re.sub(r'\b(a|an|the)\b', ' ', text): \b is Unicode-aware there, so "theé" keeps its "the".
const ARTICLES = new RegExp(`(?<!${PY_WORD_CHAR})(?:a|an|the)(?!${PY_WORD_CHAR})`, 'gu');

export function normalizeAnswer(s: string): string {
  const lower = s.toLowerCase();
  let noPunct = '';
  for (const ch of lower) if (!PUNCTUATION.has(ch)) noPunct += ch;
  return pySplit(noPunct.replace(ARTICLES, ' ')).join(' ');
}

/** The normalised answer's tokens (what SQuAD's F1 counts). */
export function answerTokens(s: string): string[] {
  return pySplit(normalizeAnswer(s));
}
