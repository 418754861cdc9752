import { sample, type Policy, type Tokenizer } from '@ragrpo/model';
import { splitReasoning } from './reasoning.ts';

/** TRL's sampling options, as the pipeline file names them. */
export interface SamplingSettings {
  temperature: number;
  top_p: number;
  top_k: number;
  min_p: number;
  repetition_penalty: number;
  max_completion_length: number;
  stop: string[];
}

export interface SampledCompletion {
  promptIndex: number;
  text: string;
  answer: string;
  reasoning: string | null;
  ids: number[];
  logprobs: number[];
  finishReason: 'eos' | 'stop' | 'length';
  truncated: boolean;
}

/**
 * `groupSize` completions for each prompt, decoded together after one shared prefill (the
 * engine's batched KV-cache sampler). The text is decoded without special tokens, and a
 * <think> block is split from the answer. This is what grpo-train samples its groups with.
 */
export async function sampleCompletions(
  policy: Policy, tokenizer: Tokenizer, prompts: readonly (readonly number[])[],
  s: SamplingSettings & { groupSize: number; seed: number },
): Promise<SampledCompletion[][]> {
  const eos = [...new Set([...policy.config.eosTokenIds, ...(tokenizer.eosTokenId === null ? [] : [tokenizer.eosTokenId])])];
  const decode = (ids: number[]) => tokenizer.decode(ids, { skipSpecialTokens: true });
  const groups = await sample(policy, prompts, {
    maxNewTokens: s.max_completion_length,
    temperature: s.temperature,
    topK: s.top_k,
    topP: s.top_p,
    minP: s.min_p,
    repetitionPenalty: s.repetition_penalty,
    stopStrings: s.stop,
    eosTokenIds: eos,
    decode,
    groupSize: s.groupSize,
    seed: s.seed,
  });
  return groups.map((group) => group.map((c) => {
    const text = c.text ?? decode(c.tokens);
    return { promptIndex: c.promptIndex, text, ...splitReasoning(text), ids: c.tokens, logprobs: c.logprobs, finishReason: c.finishReason, truncated: c.truncated };
  }));
}
