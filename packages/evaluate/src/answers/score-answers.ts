import { rewardBatch, rewardFunctions, scoreRewards, type NamedReward, type RewardDeps, type RewardSpec } from '@ragrpo/reward';
import type { Answer, EvalPrompt } from './answer-questions.ts';
import { openJudge, type JudgeSetup } from './judge.ts';

/**
 * A spec's reward functions, ready to score; the judge (when the spec has it) on its endpoint or model
 * folder. `release` frees the judge's model.
 */
export async function evaluationFunctions(spec: RewardSpec, judge: JudgeSetup | null, root: string): Promise<{ functions: NamedReward[]; release: () => Promise<void> }> {
  const deps: RewardDeps = { root };
  const j = judge && spec.reward_funcs.includes('judge') ? await openJudge(judge) : null;
  if (j) deps.generateText = j.generateText;
  try {
    return { functions: await rewardFunctions(spec, deps), release: async () => { await j?.release(); } };
  } catch (err) {
    await j?.release();
    throw err;
  }
}

/** Every reward for every answer: [reward][question][sample]. */
export async function scoreAnswers(functions: NamedReward[], test: EvalPrompt[], answers: Answer[][]): Promise<(number | null)[][][]> {
  const completions = test.flatMap((p, qi) => answers[qi].map((a, k) => ({
    question_id: p.question_id, split: p.split, group_index: k, variant: 'evaluate', template: p.template, answer: a.answer, completion_ids: a.ids,
  })));
  const values = await scoreRewards(functions, rewardBatch(completions, test));
  return values.map((v) => {
    let at = 0;
    return answers.map((g) => g.map(() => v[at++]));
  });
}
