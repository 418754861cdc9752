import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import okapi from 'okapibm25';
import { describe, expect, it } from 'vitest';
import {
  bm25DocumentVector, bm25FromModel, bm25QueryVector, builtinStopwords, fitBm25, parseBm25, serializeBm25, sparseDot,
} from '../src/index.ts';

// okapibm25 is CommonJS with `exports.default`: Node's ESM loader hands out module.exports, vite's
// interop the default export itself; take whichever is the function.
const BM25 = ((okapi as unknown as { default?: unknown }).default ?? okapi) as typeof okapi.default;

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const WINE_CSV = path.resolve(repoRoot, '..', 'shared', 'datasets', 'wine-reviews', 'winemag-data-130k-v2.sample.csv');

const plain = { k1: 1.2, b: 0.75, language: 'none' as const, stem: false, stopwords: [] };

describe('BM25 sparse vectors: dot product is the BM25 score', () => {
  it('matches scores worked out by hand on a 3-document corpus', () => {
    // N = 3, avgdl = (2 + 3 + 1) / 3 = 2; idf(df=1) = ln(1 + 2.5/1.5) = ln(8/3), idf(df=2) = ln(1.6).
    // d1 'cherry' tf 2, dl 3: 2*2.2 / (2 + 1.2*(0.25 + 0.75*1.5)) = 4.4/3.65; 'apple' tf 1: 2.2/2.65.
    // d0 'apple' tf 1, dl 2: 2.2 / (1 + 1.2) = 1.
    const bm = fitBm25(['apple banana', 'apple cherry cherry', 'durian'], plain);
    const q = bm25QueryVector(bm, 'cherry apple');
    const docs = ['apple banana', 'apple cherry cherry', 'durian'].map((d) => bm25DocumentVector(bm, d));
    const scores = docs.map((d) => sparseDot(q, d));
    expect(scores[0]).toBeCloseTo(Math.log(1.6), 6);
    expect(scores[1]).toBeCloseTo(Math.log(8 / 3) * (4.4 / 3.65) + Math.log(1.6) * (2.2 / 2.65), 6);
    expect(scores[2]).toBe(0);
    expect(bm.model.avgdl).toBe(2);
    expect(bm.model.vocab).toEqual(['apple', 'banana', 'cherry', 'durian']);
    expect(bm.model.df).toEqual([2, 1, 1, 1]);
  });

  it('equals the okapibm25 library on real wine reviews, stop words and stemming applied', () => {
    const rows = parse(readFileSync(WINE_CSV), { columns: true, to_line: 61 }) as { description: string }[];
    const texts = rows.map((r) => r.description);
    const bm = fitBm25(texts, { k1: 1.2, b: 0.75, language: 'english', stem: true, stopwords: builtinStopwords('english') });
    // The oracle matches terms as substrings and counts words with \w+, so each analysed term is
    // handed to it as an opaque token t<id>x: no token is then a substring of another.
    const token = (t: string) => `t${bm.termId.get(t)}x`;
    const oracleDocs = texts.map((t) => bm.analyze(t).map(token).join(' '));
    const queries = ['ripe black cherry and firm tannins', 'crisp citrus acidity with green apple', 'oak, vanilla and a long finish'];
    for (const query of queries) {
      const terms = [...new Set(bm.analyze(query))].filter((t) => bm.termId.has(t));
      expect(terms.length).toBeGreaterThan(1);
      const expected = BM25(oracleDocs, terms.map(token), { k1: 1.2, b: 0.75 }) as number[];
      const q = bm25QueryVector(bm, query);
      const got = texts.map((t) => sparseDot(q, bm25DocumentVector(bm, t)));
      expect(expected.some((s) => s > 0)).toBe(true);
      got.forEach((s, i) => expect(s).toBeCloseTo(expected[i], 4));
    }
  });

  it('reproduces the same query vectors from bm25.json', () => {
    const texts = ['Die Weine aus der Pfalz sind trocken.', 'Ein fruchtiger Riesling von der Mosel.', 'Trockene Weißweine und Rotweine.'];
    const bm = fitBm25(texts, { k1: 1.5, b: 0.6, language: 'german', stem: true, stopwords: builtinStopwords('german') });
    const again = bm25FromModel(parseBm25(serializeBm25(bm.model), 'bm25.json'));
    for (const q of ['trockener Wein', 'Riesling Mosel']) {
      expect(bm25QueryVector(again, q)).toEqual(bm25QueryVector(bm, q));
    }
    expect(bm25DocumentVector(again, texts[1])).toEqual(bm25DocumentVector(bm, texts[1]));
  });

  it('refuses a bm25.json that is not a ragrpo model, naming the file', () => {
    expect(() => parseBm25('{"kind":"tfidf"}', 'artifacts/x/embed/bm25.json')).toThrow(/^artifacts\/x\/embed\/bm25.json: not a ragrpo bm25.json/);
    expect(() => parseBm25('{', 'b.json')).toThrow(/^b.json: not valid JSON/);
  });

  it('drops query words outside the vocabulary and counts a repeated query word once', () => {
    const bm = fitBm25(['apple banana', 'apple cherry cherry', 'durian'], plain);
    const q = bm25QueryVector(bm, 'cherry cherry kiwi');
    expect(Array.from(q.indices)).toEqual([bm.termId.get('cherry')]);
    expect(q.values[0]).toBeCloseTo(Math.log(8 / 3), 6);
  });
});
