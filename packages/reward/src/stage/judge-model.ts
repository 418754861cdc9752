import { sampleCompletions } from '@ragrpo/generate';
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
