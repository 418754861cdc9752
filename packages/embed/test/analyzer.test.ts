import path from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { builtinStopwords, createAnalyzer, fitBm25, readStopwordFile } from '../src/index.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const NLTK = path.resolve(repoRoot, '..', 'shared', 'datasets', 'stopwords');

describe('text analyzer', () => {
  it('lower-cases, drops English stop words and punctuation, cuts clitics and Porter-stems', () => {
    const en = createAnalyzer({ language: 'english', stem: true });
    expect(en("The wine's aromas were RUNNING quickly, and they're fading!")).toEqual(['wine', 'aroma', 'run', 'quickli', 'fade']);
  });

  it('keeps surface forms when stemming is off', () => {
    const en = createAnalyzer({ language: 'english', stem: false });
    expect(en('The wines were running quickly')).toEqual(['wines', 'running', 'quickly']);
  });

  it('drops German stop words and applies the Snowball German stemmer', () => {
    const de = createAnalyzer({ language: 'german', stem: true });
    expect(de('Die Häuser und die Weinberge an der Mosel')).toEqual(['haus', 'weinberg', 'mosel']);
    expect(builtinStopwords('german')).toContain('und');
  });

  it('splits on Unicode word boundaries: accents, decimals and hyphenated names', () => {
    const none = createAnalyzer({ language: 'none', stem: false });
    expect(none('Café in Zürich-Altstadt: 3.5 Gläser — naïve!')).toEqual(['café', 'in', 'zürich', 'altstadt', '3.5', 'gläser', 'naïve']);
  });

  it('finds words in scripts written without spaces through the ICU word dictionary', () => {
    const none = createAnalyzer({ language: 'none', stem: false });
    const terms = none('我喜欢喝红酒。');
    expect(terms.length).toBeGreaterThan(1);
    expect(terms.join('')).toBe('我喜欢喝红酒');
  });

  it('uses a stop-word file (the NLTK German list) instead of the built-in list', () => {
    const words = readStopwordFile(path.join(NLTK, 'nltk-german.txt'));
    expect(words).toContain('unserem');
    // 'unserem' is in NLTK's list but not in the stopword package's; 'allerdings' the other way round.
    const nltk = createAnalyzer({ language: 'german', stem: false, stopwords: words });
    const builtin = createAnalyzer({ language: 'german', stem: false });
    expect(nltk('unserem Wein allerdings')).toEqual(['wein', 'allerdings']);
    expect(builtin('unserem Wein allerdings')).toEqual(['unserem', 'wein']);
  });

  it("matches the NLTK English list's contractions whichever way the apostrophe is written", () => {
    const en = createAnalyzer({ language: 'english', stem: false, stopwords: readStopwordFile(path.join(NLTK, 'nltk-english.txt')) });
    expect(en('We don’t like wines that aren\'t dry')).toEqual(['like', 'wines', 'dry']);
  });

  it('refuses an unreadable or empty stop-word file with one line naming it', () => {
    expect(() => readStopwordFile('/nonexistent/stop.txt')).toThrow(/^\/nonexistent\/stop.txt: cannot read the stop-word file \(ENOENT\)/);
    const dir = mkdtempSync(path.join(tmpdir(), 'embed-stop-'));
    writeFileSync(path.join(dir, 'empty.txt'), '# nothing\n\n');
    expect(() => readStopwordFile(path.join(dir, 'empty.txt'))).toThrow(/empty.txt: the stop-word file holds no words/);
  });
});

describe('vocabulary', () => {
  const docs = ['Ripe cherry and plum.', 'Crisp green apple, citrus and cherry.', 'Oak, vanilla and plum notes.'];
  const opts = { k1: 1.2, b: 0.75, language: 'english' as const, stem: true, stopwords: builtinStopwords('english') };

  it('assigns term ids in sorted term order, whatever the document order', () => {
    const a = fitBm25(docs, opts);
    const b = fitBm25([...docs].reverse(), opts);
    expect(a.model.vocab).toEqual(['appl', 'cherri', 'citru', 'crisp', 'green', 'note', 'oak', 'plum', 'ripe', 'vanilla']);
    expect(b.model.vocab).toEqual(a.model.vocab);
    expect(b.model.df).toEqual(a.model.df);
    expect(a.model.df[a.model.vocab.indexOf('cherri')]).toBe(2);
  });
});
