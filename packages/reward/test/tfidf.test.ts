import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRewardFunction, nltkStopwords, sklearnTokens, tfidfSimilarity, type StopwordLanguage } from '../src/index.ts';
import { batchOf, FIXTURES, HAVE_SHARED, SHARED_STOPWORDS } from './helpers.ts';

// Produced by tools/reference/reward_tfidf_fixtures.py with scikit-learn's TfidfVectorizer.
interface TfidfCase {
  name: string;
  language: StopwordLanguage;
  reference: string;
  completions: string[];
  tokens: string[][];
  similarities?: number[];
  error?: 'empty_vocabulary';
}
const fixture = JSON.parse(readFileSync(path.join(FIXTURES, 'tfidf.json'), 'utf8')) as { sklearn: string; cases: TfidfCase[] };

describe(`tfidfSimilarity against scikit-learn ${fixture.sklearn}`, () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const stops = new Set(nltkStopwords(c.language));
      expect([c.reference, ...c.completions].map((d) => sklearnTokens(d, stops))).toEqual(c.tokens);
      const sims = tfidfSimilarity(c.reference, c.completions, { language: c.language });
      // scikit-learn raises "empty vocabulary" here; the reward scores 0 instead of crashing.
      const expected = c.error === 'empty_vocabulary' ? c.completions.map(() => 0) : c.similarities ?? [];
      expect(sims).toHaveLength(expected.length);
      sims.forEach((s, i) => expect(s).toBeCloseTo(expected[i], 12));
    });
  }
});

describe('tfidf by hand', () => {
  it('follows the smooth idf and l2 norm formulas', () => {
    // docs: ref "red wine", c1 "red red", c2 "white"; n = 3, no stop words.
    // df: red 2, wine 1, white 1 -> idf(red) = ln(4/3) + 1 = 1.287682, idf(wine) = idf(white) = ln(4/2) + 1 = 1.693147
    // ref = (red 1.287682, wine 1.693147) / sqrt(1.287682^2 + 1.693147^2) = (0.605349, 0.795961)
    // c1  = (red 2 * 1.287682) / itself = (1, 0)       -> cosine 0.605349
    // c2  = (white 1)                                   -> cosine 0
    const idfRed = Math.log(4 / 3) + 1;
    const idfWine = Math.log(2) + 1;
    const expected = idfRed / Math.hypot(idfRed, idfWine);
    expect(expected).toBeCloseTo(0.605349, 6);
    const [s1, s2] = tfidfSimilarity('red wine', ['red red', 'white'], { language: 'none' });
    expect(s1).toBeCloseTo(expected, 12);
    expect(s2).toBe(0);
  });

  it('takes its own stop words instead of the language list', () => {
    // "wine" removed: ref = (red), c1 = (red) -> 1
    expect(tfidfSimilarity('red wine', ['red', 'wine'], { language: 'none', stopwords: ['wine'] })).toEqual([1, 0]);
  });
});

describe.skipIf(!HAVE_SHARED)('NLTK stop words (against ../shared/datasets/stopwords)', () => {
  for (const language of ['english', 'german'] as const) {
    it(`${language} equals nltk-${language}.txt exactly`, () => {
      const file = readFileSync(path.join(SHARED_STOPWORDS, `nltk-${language}.txt`), 'utf8').split('\n').filter(Boolean);
      expect(nltkStopwords(language)).toEqual([...new Set(file)].sort());
      expect(nltkStopwords(language)).toHaveLength(language === 'english' ? 198 : 232);
    });
  }
});
if (!HAVE_SHARED) console.warn(`skipping the NLTK stop-word comparison: ${SHARED_STOPWORDS} is not there`);

describe('tfidf reward', () => {
  it('fits one vectorizer per question and gives null without a reference', async () => {
    const fn = createRewardFunction('tfidf', { language: 'english' });
    const batch = batchOf([
      { question_id: 'a', reference: 'red wine', completion: 'red red' },
      { question_id: 'a', reference: 'red wine', completion: 'white' },
      { question_id: 'b', reference: 'Pinot Noir', completion: 'pinot noir' },
      { question_id: 'c', reference: null, completion: 'anything' },
    ]);
    const out = await fn(batch);
    // Question a alone: the hand case above (english stop words remove neither word).
    const a = tfidfSimilarity('red wine', ['red red', 'white'], { language: 'english' });
    expect(out).toEqual([a[0], a[1], expect.closeTo(1, 12), null]);
    expect(out[0]).toBeCloseTo(0.605349, 6);
  });

  it('reads a stop-word file relative to deps.root', async () => {
    const fn = createRewardFunction('tfidf', { language: 'none', stopwords: 'stopwords-wine.txt' }, { root: FIXTURES });
    const out = await fn(batchOf([{ reference: 'red wine', completion: 'red' }, { reference: 'red wine', completion: 'wine' }]));
    expect(out).toEqual([1, 0]);
  });

  it('reports a bad option with the reward and the nearest key', () => {
    expect(() => createRewardFunction('tfidf', { langauge: 'german' })).toThrow(/reward 'tfidf': unknown option 'langauge' \(did you mean 'language'\?\)/);
    expect(() => createRewardFunction('tfidf', { language: 'french' })).toThrow(/reward 'tfidf': option 'language'/);
    expect(() => createRewardFunction('tfidf', { stopwords: 'missing.txt' }, { root: '/nonexistent' })).toThrow(/\/nonexistent\/missing.txt: cannot read the stop-word file/);
  });
});
