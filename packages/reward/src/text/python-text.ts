/**
 * Python's text semantics, which the reference implementations (scikit-learn, SQuAD's evaluate
 * script) rely on, written out for JavaScript regexes. JavaScript's `\w`, `\b` and `\s` differ:
 * `\w`/`\b` are ASCII-only even with the `u` flag, and `\s` includes U+FEFF but not U+001C-U+001F
 * or U+0085. Checked over every code point against Python 3.11 (Unicode 14): the classes below
 * agree exactly; Node's newer Unicode tables only add characters assigned after Unicode 14.
 */

/** Python's `\w` for str patterns: str.isalnum() or '_' (letters L*, numbers N*; not marks M*). */
export const PY_WORD_CHAR = '[\\p{L}\\p{N}_]';

/** Python's str.isspace() characters, which str.split() with no argument splits on. */
export const PY_SPACE_CHAR = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';

const PY_SPACE_RUN = new RegExp(`${PY_SPACE_CHAR}+`, 'u');

/** Python's `s.split()` (no argument): split on runs of whitespace, no empty strings. */
export function pySplit(s: string): string[] {
  return s.split(PY_SPACE_RUN).filter((t) => t.length > 0);
}

/** Python's string.punctuation: the 32 ASCII punctuation characters (not curly quotes or dashes). */
export const PY_ASCII_PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
