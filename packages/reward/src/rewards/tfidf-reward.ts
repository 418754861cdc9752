import { z } from 'zod';
import { parseOptions } from '../registry/options.ts';
import { readStopwordFile } from '../text/stopwords.ts';
import type { RewardDeps, RewardFunction, RewardValues } from '../types.ts';
import { groupsByQuestion, resolvePath } from './batch-helpers.ts';
import { tfidfSimilarity } from './tfidf.ts';

export const TfidfRewardOptions = z.strictObject({
  /** NLTK's English or German stop words, or none. Seed 001 uses german. */
  language: z.enum(['english', 'german', 'none']).default('english'),
  /** Own stop words instead of NLTK's: a list of words, or a file with one word a line. */
  stopwords: z.union([z.array(z.string()), z.string().min(1)]).optional(),
});

/** tfidf: scikit-learn TF-IDF cosine of each completion to its question's reference (null without one). */
export function createTfidfReward(options: unknown, deps: RewardDeps): RewardFunction {
  const o = parseOptions('tfidf', TfidfRewardOptions, options);
  const stopwords = typeof o.stopwords === 'string' ? readStopwordFile(resolvePath(deps, o.stopwords)) : o.stopwords;
  return (batch) => {
    const out: RewardValues = batch.completions.map(() => null);
    for (const group of groupsByQuestion(batch)) {
      const reference = batch.columns.reference[group[0]];
      if (reference == null) continue;
      const sims = tfidfSimilarity(reference, group.map((i) => batch.completions[i]), { language: o.language, stopwords });
      group.forEach((i, k) => { out[i] = sims[k]; });
    }
    return out;
  };
}
