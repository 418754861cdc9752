import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRewardFunction, mapSentimentLabel, vaderLabel } from '../src/index.ts';
import { lexiconClassifier } from '../src/rewards/sentiment-lexicon.ts';
import { batchOf, FIXTURES } from './helpers.ts';
import { buildTinyClassifier } from './tiny-classifier.ts';

// Produced by tools/reference/reward_sentiment_fixtures.py with the Python vaderSentiment 3.3.2.
const vader = JSON.parse(readFileSync(path.join(FIXTURES, 'sentiment.json'), 'utf8')) as { cases: { text: string; compound: number; label: string }[] };

describe('English lexicon (VADER) against the Python vaderSentiment', () => {
  it('labels every fixture sentence as the Python implementation does', async () => {
    const labels = await lexiconClassifier('english')(vader.cases.map((c) => c.text));
    expect(labels).toEqual(vader.cases.map((c) => c.label));
  });

  it('uses VADER\'s documented thresholds', () => {
    expect([vaderLabel(0.05), vaderLabel(0.0499), vaderLabel(-0.0499), vaderLabel(-0.05)]).toEqual(['positive', 'neutral', 'neutral', 'negative']);
  });
});

describe('German lexicon (nlp.js SentiCon)', () => {
  it('sums the stems\' SentiCon scores, flipping after a negation, by hand', async () => {
    // senticon_de.json: wunderbar 0.7234, sauber 0.3553, schrecklich -0.0242, kalt -0.012, gut 0.3716; "nicht" negates.
    //   "wunderbar und sehr sauber"    0.7234 + 0.3553 = 1.0787  -> positive
    //   "schrecklich und kalt"         -0.0242 - 0.012 = -0.0362 -> negative
    //   "nicht gut"                    -1 * 0.3716               -> negative
    //   "Der Zug fährt um acht Uhr."   no hits, 0                -> neutral
    const labels = await lexiconClassifier('german')([
      'Das Hotel war wunderbar und sehr sauber.', 'Das Essen war schrecklich und kalt.', 'Das Essen war nicht gut.', 'Der Zug fährt um acht Uhr.',
    ]);
    expect(labels).toEqual(['positive', 'negative', 'negative', 'neutral']);
  });
});

describe('sentiment reward', () => {
  it('gives 1 when the completion\'s label equals the reference\'s, null without a reference', async () => {
    const fn = createRewardFunction('sentiment', { language: 'german' });
    const out = await fn(batchOf([
      { reference: 'Ein wunderbarer Ort, sehr sauber.', completion: 'Wunderbar!' },
      { reference: 'Ein wunderbarer Ort, sehr sauber.', completion: 'Schrecklich und kalt.' },
      { reference: null, completion: 'Wunderbar!' },
    ]));
    expect(out).toEqual([1, 0, null]);
  });

  it('maps a classifier\'s labels through `labels` (else lower-cases them)', async () => {
    expect(mapSentimentLabel('LABEL_2', { LABEL_2: 'positive' })).toBe('positive');
    expect(mapSentimentLabel('POSITIVE', undefined)).toBe('positive');
    const seen: string[][] = [];
    const fn = createRewardFunction('sentiment', { labels: { LABEL_0: 'negative', LABEL_1: 'neutral', LABEL_2: 'positive', pos: 'positive' } }, {
      // The reference is classified first (once), then each completion that has a reference.
      classifySentiment: async (texts) => { seen.push(texts); return ['LABEL_2', 'pos', 'LABEL_0', 'POSITIVE']; },
    });
    const out = await fn(batchOf([
      { reference: 'ref', completion: 'a' }, { reference: 'ref', completion: 'b' }, { reference: null, completion: 'c' }, { reference: 'ref', completion: 'd' },
    ]));
    expect(seen).toEqual([['ref', 'a', 'b', 'd']]);
    expect(out).toEqual([1, 0, null, 1]);
  });

  describe('with a text-classification model folder (transformers.js)', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'reward-sentiment-'));
      // logits = mean over [CLS] words [SEP] of E + bias; E: good (0,0,3), bad (3,0,0), every other token 0; bias (0, 0.5, 0).
      await buildTinyClassifier(path.join(dir, 'sentiment'), { labels: ['NEG', 'NEU', 'POS'], words: { good: [0, 0, 3], bad: [3, 0, 0] }, bias: [0, 0.5, 0] });
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('takes the top label and maps it', async () => {
      const fn = createRewardFunction('sentiment', { model: 'sentiment', labels: { NEG: 'negative', NEU: 'neutral', POS: 'positive' } }, { root: dir });
      // "good good":  (0,0,6)/4 + bias = (0, 0.5, 1.5)   -> POS
      // "good":       (0,0,3)/3 + bias = (0, 0.5, 1)     -> POS
      // "bad":        (3,0,0)/3 + bias = (1, 0.5, 0)     -> NEG
      // "fine":       (0,0,0)/3 + bias = (0, 0.5, 0)     -> NEU
      const out = await fn(batchOf([
        { reference: 'good good', completion: 'good' }, { reference: 'good good', completion: 'bad' }, { reference: 'good good', completion: 'fine' },
      ]));
      expect(out).toEqual([1, 0, 0]);
    });

    it('names a missing folder', () => {
      expect(() => createRewardFunction('sentiment', { model: 'nope' }, { root: dir })).toThrow(`reward 'sentiment': no model folder at ${path.join(dir, 'nope')}`);
    });
  });
});
