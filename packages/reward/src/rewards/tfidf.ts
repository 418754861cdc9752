/**
 * Seed 001's TF-IDF reward: a TfidfVectorizer fitted on [reference] + completions, and the cosine of
 * the reference's row to each completion's row.
 *
 * Hand-written rather than taken from an npm TF-IDF package: those (natural, tiny-tfidf, ...) use
 * other idf formulas, tokenizers and no l2 row norm, and the seed's numbers are scikit-learn's.
 * scikit-learn's defaults, exactly:
 *   tokens   lower-case, (?u)\b\w\w+\b, stop words removed (text/sklearn-tokenize.ts)
 *   tf       raw counts (sublinear_tf=False)
 *   idf      ln((1 + n) / (1 + df)) + 1 (smooth_idf=True), n = number of documents fitted
 *   row      tf * idf, then l2-normalised (norm='l2'); an all-zero row stays zero
 *   cosine   dot product of the l2-normalised rows; 0 against a zero row
 * tools/reference/reward_tfidf_fixtures.py produces the scikit-learn values the tests compare with.
 */
import { sklearnTokens } from '../text/sklearn-tokenize.ts';
import { nltkStopwords, type StopwordLanguage } from '../text/stopwords.ts';

export interface TfidfOptions {
  /** NLTK's stop words for the language ('none': no stop words). */
  language: StopwordLanguage;
  /** Replaces the language's list (words as written; scikit-learn compares them to lower-cased tokens). */
  stopwords?: readonly string[];
}

/**
 * Cosine similarity between the reference and each completion in scikit-learn's TF-IDF space
 * fitted on [reference, ...completions]. Where scikit-learn would raise "empty vocabulary" (no
 * document has a token left), every similarity is 0.
 */
export function tfidfSimilarity(reference: string, completions: readonly string[], opts: TfidfOptions): number[] {
  const stops = new Set(opts.stopwords ?? nltkStopwords(opts.language));
  const docs = [reference, ...completions].map((d) => termCounts(sklearnTokens(d, stops)));

  const df = new Map<string, number>();
  for (const counts of docs) for (const term of counts.keys()) df.set(term, (df.get(term) ?? 0) + 1);
  const n = docs.length;
  const idf = (term: string) => Math.log((1 + n) / (1 + (df.get(term) ?? 0))) + 1;

  const rows = docs.map((counts) => l2Normalize(new Map([...counts].map(([t, c]) => [t, c * idf(t)]))));
  const ref = rows[0];
  return rows.slice(1).map((row) => {
    let dot = 0;
    for (const [term, w] of row) dot += w * (ref.get(term) ?? 0);
    return dot;
  });
}

function termCounts(tokens: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

function l2Normalize(row: Map<string, number>): Map<string, number> {
  let sq = 0;
  for (const w of row.values()) sq += w * w;
  if (sq === 0) return row;
  const norm = Math.sqrt(sq);
  for (const [t, w] of row) row.set(t, w / norm);
  return row;
}
