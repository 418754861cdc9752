import { z } from 'zod';
import { parseOptions } from '../registry/options.ts';
import type { JudgeStats, RewardDeps, RewardFunction } from '../types.ts';
import { extractJudgeScore } from './judge-score.ts';

/**
 * Seed 000's reward model: the base LLM is asked for a 1-10 quality score of (question, context,
 * answer) and the number is read out of its reply. The template's placeholders are {question},
 * {context}, {answer} and {reference} (the reference answer, '' where there is none).
 */
export const DEFAULT_JUDGE_TEMPLATE = [
  'Rate the quality of the answer to the question below on a scale of 1 to 10, where 1 is useless',
  'and 10 is a correct, complete answer supported by the context.',
  '',
  'Question: {question}',
  '',
  'Context:',
  '{context}',
  '',
  'Answer: {answer}',
  '',
  'Reply with the score only, as "Score: N".',
].join('\n');

const PLACEHOLDERS = ['question', 'context', 'answer', 'reference'] as const;

export const JudgeOptions = z.strictObject({
  template: z.string().min(1).default(DEFAULT_JUDGE_TEMPLATE).refine(
    (t) => [...t.matchAll(/\{(\w+)\}/g)].every((m) => (PLACEHOLDERS as readonly string[]).includes(m[1])),
    { message: `the template's placeholders must be among ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}` },
  ).refine((t) => t.includes('{answer}'), { message: 'the template must contain {answer}' }),
  /** true: (score - 1) / 9, so 1 -> 0.0 and 10 -> 1.0 like the other rewards; false: the raw 1-10. */
  normalize: z.boolean().default(true),
});

export function judgePrompt(template: string, fields: Record<(typeof PLACEHOLDERS)[number], string>): string {
  // One pass, so a placeholder-like text inside a field is never substituted again.
  return template.replace(/\{(question|context|answer|reference)\}/g, (_, k: keyof typeof fields) => fields[k]);
}

/**
 * judge: the LLM-as-judge score of each completion (null where the reply holds no 1-10 score;
 * such replies are counted and reported through deps.onJudgeStats, never thrown).
 */
export function createJudgeReward(options: unknown, deps: RewardDeps): RewardFunction & { stats: JudgeStats } {
  const o = parseOptions('judge', JudgeOptions, options);
  const generate = deps.generateText;
  if (!generate) throw new Error("reward 'judge' needs a text generator (deps.generateText: prompts -> replies), which the stage wires to a local model");
  const stats: JudgeStats = { replies: 0, unparseable: 0, totalReplies: 0, totalUnparseable: 0 };
  const fn = async (batch: Parameters<RewardFunction>[0]) => {
    const prompts = batch.completions.map((answer, i) => judgePrompt(o.template, {
      question: batch.columns.question[i] ?? '',
      context: batch.columns.context[i] ?? '',
      answer,
      reference: batch.columns.reference[i] ?? '',
    }));
    const replies = prompts.length ? await generate(prompts) : [];
    if (!Array.isArray(replies) || replies.length !== prompts.length) {
      throw new Error(`reward 'judge': the text generator returned ${Array.isArray(replies) ? replies.length : typeof replies} replies for ${prompts.length} prompts`);
    }
    const scores = replies.map((r) => (typeof r === 'string' ? extractJudgeScore(r) : null));
    stats.replies = replies.length;
    stats.unparseable = scores.filter((s) => s === null).length;
    stats.totalReplies += stats.replies;
    stats.totalUnparseable += stats.unparseable;
    deps.onJudgeStats?.({ ...stats });
    return scores.map((s) => (s === null ? null : o.normalize ? (s - 1) / 9 : s));
  };
  return Object.assign(fn, { stats });
}
