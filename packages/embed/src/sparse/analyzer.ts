import { readFileSync } from 'node:fs';
import { StemmerDe } from '@nlpjs/lang-de';
import { stemmer as porter } from 'stemmer';
import { deu, eng } from 'stopword';

export type Bm25Language = 'english' | 'german' | 'none';

export interface AnalyzerOptions {
  language: Bm25Language;
  /** Stem with Porter (english) or Snowball (german). Ignored for 'none'. */
  stem: boolean;
  /** Overrides the language's built-in stop words (already lower-cased words). */
  stopwords?: readonly string[];
}

/** Turns text into the terms BM25 counts. Deterministic: the same options give the same terms. */
export type Analyzer = (text: string) => string[];

const LOCALE: Record<Bm25Language, string> = { english: 'en', german: 'de', none: 'und' };

/** The built-in stop words per language (the `stopword` package: 108 English, 621 German words). */
export function builtinStopwords(language: Bm25Language): string[] {
  if (language === 'english') return [...eng];
  if (language === 'german') return [...deu];
  return [];
}

/**
 * Reads a stop-word file: one word a line, '#' starts a comment, blank lines skipped.
 * The NLTK lists in /work/shared/datasets/stopwords/*.txt have this format.
 */
export function readStopwordFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read the stop-word file (${(err as NodeJS.ErrnoException).code}); check embed.sparse.stopwords`);
  }
  const words = text.split(/\r?\n/).map((l) => l.replace(/#.*/, '').trim()).filter(Boolean).map(normalizeWord);
  if (words.length === 0) throw new Error(`${file}: the stop-word file holds no words; give one word a line`);
  return words;
}

// Curly apostrophes become straight ones so "don’t" and "don't" are one term (and one stop word).
function normalizeWord(w: string): string {
  return w.normalize('NFKC').toLowerCase().replace(/[\u2018\u2019\u02bc]/g, "'");
}

// English clitics: "they're", "wine's", "don't" keep their base word ("they", "wine", "do"), as
// Lucene's possessive filter does for 's; the stop-word check then sees the base word too.
const CLITIC = /^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$/;
const IRREGULAR_NEGATION: Record<string, string> = { "can't": 'can', "won't": 'will', "shan't": 'shall' };

function englishBase(word: string): string {
  return IRREGULAR_NEGATION[word] ?? word.match(CLITIC)?.[1] ?? word;
}

function stemmerFor(language: Bm25Language, stem: boolean): ((w: string) => string) | null {
  if (!stem || language === 'none') return null;
  if (language === 'english') return porter;
  const de = new StemmerDe();
  return (w) => de.stemWord(w);
}

// A Unicode word: letters, marks and digits, with an apostrophe kept between letters ("don't")
// and a point or comma between digits ("3.5", "1,000"), as UAX #29 word boundaries do. Hyphens,
// slashes and other punctuation split. A regex, because Intl.Segmenter is ~25x slower on this.
const WORD = /[\p{L}\p{M}\p{N}]+(?:(?:(?<=\p{L})'(?=\p{L})|(?<=\p{N})[.,](?=\p{N}))[\p{L}\p{M}\p{N}]+)*/gu;
// Scripts written without spaces need a dictionary to find words: those texts go to Intl.Segmenter.
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;

// The per-word work (stop-word check, clitics, stemming) is cached: corpora repeat words a lot.
const CACHE_LIMIT = 500_000;

/**
 * Lower-case, split into Unicode words (UAX #29-style: "don't", "3.5" and "Zürich" stay one word,
 * punctuation is dropped), cut English clitics, remove stop words (compared before stemming, as
 * the lists hold surface forms), then stem.
 */
export function createAnalyzer(opts: AnalyzerOptions): Analyzer {
  const stops = new Set((opts.stopwords ?? builtinStopwords(opts.language)).map(normalizeWord));
  const stem = stemmerFor(opts.language, opts.stem);
  const segmenter = new Intl.Segmenter(LOCALE[opts.language], { granularity: 'word' });
  const cache = new Map<string, string | null>();
  const termOf = (word: string): string | null => {
    let term = cache.get(word);
    if (term !== undefined) return term;
    const base = opts.language === 'english' ? englishBase(word) : word;
    term = stops.has(word) || stops.has(base) ? null : (stem ? stem(base) : base) || null;
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(word, term);
    return term;
  };
  const words = (text: string): Iterable<string> => UNSPACED.test(text)
    ? [...segmenter.segment(text)].filter((s) => s.isWordLike).map((s) => s.segment)
    : text.match(WORD) ?? [];
  return (text) => {
    const terms: string[] = [];
    for (const word of words(normalizeWord(text))) {
      const term = termOf(word);
      if (term !== null) terms.push(term);
    }
    return terms;
  };
}
