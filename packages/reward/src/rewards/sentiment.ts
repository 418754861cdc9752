import { z } from 'zod';
import { parseOptions } from '../registry/options.ts';
import type { RewardDeps, RewardFunction, RewardValues } from '../types.ts';
import { resolvePath } from './batch-helpers.ts';
import { lexiconClassifier, type TextClassifier } from './sentiment-lexicon.ts';
import { modelClassifier } from './sentiment-model.ts';

export const SentimentOptions = z.strictObject({
  /** The lexicon's language (ignored when `model` is set). */
  language: z.enum(['english', 'german']).default('english'),
  /** A local text-classification model folder instead of the lexicon. */
  model: z.string().min(1).optional(),
  /** Model label -> the label compared, e.g. { LABEL_0: negative, LABEL_1: neutral, LABEL_2: positive }. */
  labels: z.record(z.string(), z.string().min(1)).optional(),
  batch_size: z.number().int().positive().default(16),
});

/**
 * The label a classifier's raw label stands for: the `labels` mapping when it names it, else the
 * raw label lower-cased ("POSITIVE" and "positive" are one label).
 */
export function mapSentimentLabel(raw: string, labels: Record<string, string> | undefined): string {
  return labels?.[raw] ?? raw.toLowerCase();
}

/**
 * sentiment (seed 001): 1.0 when the completion's sentiment label equals its reference's, else 0.0;
 * null without a reference. Each distinct reference is classified once per call.
 */
export function createSentimentReward(options: unknown, deps: RewardDeps): RewardFunction {
  const o = parseOptions('sentiment', SentimentOptions, options);
  const classify: TextClassifier = deps.classifySentiment
    ?? (o.model ? modelClassifier(resolvePath(deps, o.model), o.batch_size) : lexiconClassifier(o.language));
  return async (batch) => {
    const refs = [...new Set(batch.columns.reference.filter((r): r is string => r != null))];
    const wanted = batch.completions.filter((_, i) => batch.columns.reference[i] != null);
    const labels = await classify([...refs, ...wanted]);
    if (!Array.isArray(labels) || labels.length !== refs.length + wanted.length) {
      throw new Error(`reward 'sentiment': the classifier returned ${Array.isArray(labels) ? labels.length : typeof labels} labels for ${refs.length + wanted.length} texts`);
    }
    const mapped = labels.map((l) => mapSentimentLabel(String(l), o.labels));
    const refLabel = new Map(refs.map((r, k) => [r, mapped[k]]));
    let next = refs.length;
    const out: RewardValues = batch.completions.map((_, i) => {
      const reference = batch.columns.reference[i];
      if (reference == null) return null;
      return mapped[next++] === refLabel.get(reference) ? 1 : 0;
    });
    return out;
  };
}
