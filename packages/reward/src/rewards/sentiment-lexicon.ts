/**
 * Offline lexicon sentiment classifiers, one per language, giving positive / neutral / negative.
 *   english: VADER (vader-sentiment, the port by VADER's authors of the Python vaderSentiment that
 *            NLTK also ships): compound >= 0.05 positive, <= -0.05 negative, else neutral (the
 *            thresholds VADER's documentation gives).
 *   german:  nlp.js' SentimentAnalyzer with @nlpjs/lang-de (the German SentiCon lexicon, with
 *            negations): its vote, the sign of the summed word scores.
 * Seed 001 used a BERT classifier (oliverguhr/german-sentiment-bert); no such model is reachable
 * offline, so a model folder can be given instead (sentiment-model.ts).
 */
import { createRequire } from 'node:module';
import type { SentimentLabel } from '../types.ts';

export type SentimentLanguage = 'english' | 'german';
export type TextClassifier = (texts: string[]) => Promise<string[]>;

const require = createRequire(import.meta.url);

/** VADER's compound-score thresholds. */
export const VADER_THRESHOLD = 0.05;

export function vaderLabel(compound: number): SentimentLabel {
  return compound >= VADER_THRESHOLD ? 'positive' : compound <= -VADER_THRESHOLD ? 'negative' : 'neutral';
}

function englishClassifier(): TextClassifier {
  const vader = require('vader-sentiment') as typeof import('vader-sentiment');
  return async (texts) => texts.map((t) => vaderLabel(vader.SentimentIntensityAnalyzer.polarity_scores(t).compound));
}

function germanClassifier(): TextClassifier {
  const { SentimentAnalyzer } = require('@nlpjs/sentiment') as typeof import('@nlpjs/sentiment');
  const { Container } = require('@nlpjs/core') as typeof import('@nlpjs/core');
  const { LangDe } = require('@nlpjs/lang-de') as typeof import('@nlpjs/lang-de');
  // A container of our own, not nlp.js' default one, so other users of nlp.js are not affected.
  const container = new Container();
  container.use(LangDe);
  const analyzer = new SentimentAnalyzer({ container });
  return async (texts) => {
    const out: SentimentLabel[] = [];
    for (const text of texts) out.push((await analyzer.process({ locale: 'de', text })).sentiment.vote);
    return out;
  };
}

export function lexiconClassifier(language: SentimentLanguage): TextClassifier {
  return language === 'english' ? englishClassifier() : germanClassifier();
}
