import { streamSeed } from '@ragrpo/config';
import { sampleCompletions, type SamplingSettings } from '@ragrpo/generate';
import type { Policy, Tokenizer } from '@ragrpo/model';

/** A test question's main prompt (prompts.arrow). */
export interface EvalPrompt {
  question_id: string;
  split: string;
  template: string;
  question: string;
  reference: string | null;
  prompt: string;
  prompt_ids: ArrayLike<number>;
  context: string;
  chunk_ids: ArrayLike<string>;
}

export interface Answer {
  completion: string;
  answer: string;
  reasoning: string | null;
  ids: number[];
  finishReason: string;
}

/**
 * `samples` answers to every prompt from one policy, `promptsPerBatch` prompts a call. The seed of
 * batch b is derived from the pipeline seed and b only, so the policy before and the one after
 * training sample with the same seeds (greedy needs none; k samples get the same random stream).
 */
export async function answerQuestions(
  policy: Policy, tokenizer: Tokenizer, prompts: EvalPrompt[],
  s: SamplingSettings & { samples: number; seed: number; promptsPerBatch: number; onBatch?: (n: number) => void },
): Promise<Answer[][]> {
  const out: Answer[][] = [];
  for (let b = 0; b < prompts.length; b += s.promptsPerBatch) {
    const batch = prompts.slice(b, b + s.promptsPerBatch);
    const groups = await sampleCompletions(policy, tokenizer, batch.map((p) => Array.from(p.prompt_ids)), {
      ...s, groupSize: s.samples, seed: streamSeed(s.seed, `evaluate:${b}`),
    });
    for (const g of groups) out.push(g.map((c) => ({ completion: c.text, answer: c.answer, reasoning: c.reasoning, ids: c.ids, finishReason: c.finishReason })));
    s.onBatch?.(batch.length);
  }
  return out;
}
