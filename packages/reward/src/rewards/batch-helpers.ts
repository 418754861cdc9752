import path from 'node:path';
import type { RewardBatch, RewardDeps } from '../types.ts';

/**
 * Indices of the batch's completions grouped by question (question_id + reference), in first-seen
 * order: TF-IDF is fitted per question on [reference] + that question's completions, as seed 001
 * fits one vectorizer per prompt's group.
 */
export function groupsByQuestion(batch: RewardBatch): number[][] {
  const groups = new Map<string, number[]>();
  batch.completions.forEach((_, i) => {
    const key = JSON.stringify([batch.columns.question_id[i], batch.columns.reference[i]]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  });
  return [...groups.values()];
}

/** A path from the options, resolved against deps.root (default: the working directory). */
export function resolvePath(deps: RewardDeps, p: string): string {
  return path.resolve(deps.root ?? process.cwd(), p);
}
