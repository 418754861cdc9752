import { createChatEndpoint, sampleCompletions, type EndpointSettings } from '@ragrpo/generate';
import { loadModel, Policy, type Tokenizer } from '@ragrpo/model';

/**
 * The judge's text generator (seed 000: the base LLM asked for a 1-10 score): each prompt goes
 * through the model's chat template when it has one, and the reply is a greedy completion.
 */
export async function localJudge(folder: string, o: { maxNewTokens: number; batchSize?: number }) {
  const model = await loadModel(folder);
  const tokenizer = model.tokenizer as Tokenizer;
  const policy = new Policy({ config: model.config, weights: model.weights });
  const encode = (text: string) => (tokenizer.hasChatTemplate
    ? tokenizer.applyChatTemplateIds([{ role: 'user', content: text }], { addGenerationPrompt: true })
    : tokenizer.encode(text, { addSpecialTokens: true }));
  const maxPrompt = model.config.maxPositionEmbeddings - o.maxNewTokens;
  return {
    generateText: async (prompts: string[]): Promise<string[]> => {
      const replies: string[] = [];
      const size = o.batchSize ?? 8;
      for (let i = 0; i < prompts.length; i += size) {
        // A judge prompt past the model's length keeps its end (the answer and the instruction).
        const ids = prompts.slice(i, i + size).map((p) => encode(p).slice(-maxPrompt));
        const groups = await sampleCompletions(policy, tokenizer, ids, {
          temperature: 0, top_p: 1, top_k: 0, min_p: 0, repetition_penalty: 1, max_completion_length: o.maxNewTokens, stop: [], groupSize: 1, seed: 0,
        });
        for (const [c] of groups) replies.push(c.text);
      }
      return replies;
    },
    release: () => policy.release(),
  };
}

/**
 * The judge on an OpenAI-compatible endpoint (`ragrpo serve`, vLLM, DeepSeek's API) instead of a local model:
 * each prompt is one user message, answered greedily (temperature 0) in at most `maxNewTokens` tokens, up to
 * the endpoint's `concurrency` at a time. The reply's answer is what the score is read from (a <think> block or
 * DeepSeek's reasoning_content is left out). Errors are one line naming `label` (unreachable, 4xx/5xx after
 * the client's retries with back-off, a reply without choices).
 */
export function endpointJudge(settings: EndpointSettings, o: { maxNewTokens: number; label?: string }) {
  const endpoint = createChatEndpoint(settings, o.label ?? 'reward.options.judge.endpoint');
  return {
    endpoint,
    generateText: async (prompts: string[]): Promise<string[]> => endpoint.map(prompts, async (p) => {
      const r = await endpoint.chat([{ role: 'user', content: p }], { temperature: 0, max_tokens: o.maxNewTokens, seed: 0 });
      return r.answer;
    }),
    release: async () => undefined,
  };
}

/** The judge's text generator from its options: `endpoint` when given, else the local model folder. */
export async function judgeGenerator(options: Record<string, unknown> | undefined, folder: () => Promise<string>, label = 'reward.options.judge') {
  const maxNewTokens = Number(options?.max_new_tokens ?? 16);
  if (options?.endpoint) return endpointJudge(options.endpoint as EndpointSettings, { maxNewTokens, label: `${label}.endpoint` });
  return localJudge(await folder(), { maxNewTokens });
}
