import { createRewardFunction, scoreRewards, type NamedReward, type RewardSpec } from '@ragrpo/reward';
import type { JudgeSetup } from '../answers/judge.ts';
import { evaluationFunctions } from '../answers/score-answers.ts';
import type { SideText } from './cut-off.ts';

/** What a replica needs to build its own scorer (plain data: it crosses into a worker thread). */
export type ScorerConfig =
  | { kind: 'reward'; name: string; spec: RewardSpec; root: string; judge?: JudgeSetup }
  | { kind: 'model'; folder: string; batchSize: number; maxLength?: number; root: string };

export interface SideScorer {
  /** One score per side; null where the scorer gave none. Throws when the whole call failed. */
  score(sides: SideText[], ids: string[]): Promise<(number | null)[]>;
  release(): Promise<void>;
}

/**
 * A scorer from its config: a reward through the reward library (the judge on its own model folder or
 * an OpenAI-compatible endpoint), or a reward model folder.
 */
export async function createScorer(c: ScorerConfig): Promise<SideScorer> {
  let release: () => Promise<void> = () => Promise.resolve();
  let fn: NamedReward;
  if (c.kind === 'model') {
    fn = { name: 'reward_model', fn: createRewardFunction('reward_model', { model: c.folder, batch_size: c.batchSize, ...(c.maxLength ? { max_length: c.maxLength } : {}) }, { root: c.root }) };
  } else {
    const r = await evaluationFunctions(c.spec, c.judge ?? null, c.root);
    [fn] = r.functions;
    release = r.release;
  }
  return {
    async score(sides, ids) {
      const [values] = await scoreRewards([fn], {
        prompts: sides.map((s) => s.prompt),
        completions: sides.map((s) => s.completion),
        completionIds: sides.map(() => []),
        columns: { question_id: ids, question: sides.map((s) => s.prompt), reference: sides.map(() => null), context: sides.map(() => '') },
      });
      return values;
    },
    release: () => release(),
  };
}

export interface PairSides {
  id: string;
  a: SideText;
  b: SideText;
}

/**
 * Scores pairs `batchSize` at a time (both sides in one call). A call that throws is retried pair
 * by pair, and a pair that still fails gets no scores (seed 004 predicts uniform for it and counts
 * an error); `errors` collects the first messages.
 */
export async function scorePairs(scorer: SideScorer, pairs: PairSides[], batchSize: number, onPairs?: (n: number) => void) {
  const scores: [number | null, number | null][] = [];
  const errors: string[] = [];
  const run = async (part: PairSides[]) => {
    const sides = part.flatMap((p) => [p.a, p.b]);
    const ids = part.flatMap((p) => [p.id, p.id]);
    const v = await scorer.score(sides, ids);
    return part.map((_, i) => [v[2 * i], v[2 * i + 1]] as [number | null, number | null]);
  };
  for (let i = 0; i < pairs.length; i += batchSize) {
    const part = pairs.slice(i, i + batchSize);
    try {
      scores.push(...(await run(part)));
    } catch {
      for (const p of part) {
        try {
          scores.push(...(await run([p])));
        } catch (err) {
          scores.push([null, null]);
          if (errors.length < 5) errors.push(`${p.id}: ${(err as Error).message}`);
        }
      }
    }
    onPairs?.(part.length);
  }
  return { scores, errors };
}
