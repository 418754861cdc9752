/**
 * One completion from a model folder: @ragrpo/model's loaders (weights, tokenizer, PEFT adapter)
 * and @ragrpo/generate's sampleCompletions (the sampler the pipeline's stages use).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sampleCompletions } from '@ragrpo/generate';
import { loadLora, loadModel, Policy } from '@ragrpo/model';

export interface GenerateOptions {
  model: string;
  prompt: string;
  chat?: boolean;
  maxNewTokens?: number;
  temperature?: number;
  topP?: number;
  adapter?: string;
  seed?: number;
}

export interface GenerateResult {
  text: string;
  tokens: number;
  ids: number[];
  finishReason: 'eos' | 'stop' | 'length';
  promptTokens: number;
  seconds: number;
}

export async function generateCompletion(o: GenerateOptions): Promise<GenerateResult> {
  const folder = path.resolve(o.model);
  if (!fs.existsSync(path.join(folder, 'config.json'))) {
    throw new Error(`--model ${o.model}: no config.json in ${folder} (a Hugging Face model folder; make one from a GGUF with 'ragrpo import-gguf FILE --out DIR')`);
  }
  const started = performance.now();
  const model = await loadModel(folder);
  const tok = model.tokenizer;
  if (!tok) throw new Error(`${folder}: no tokenizer (tokenizer.json + tokenizer_config.json)`);
  const lora = o.adapter ? loadLora(path.resolve(o.adapter), model.config) : null;
  const policy = new Policy({ config: model.config, weights: model.weights }, { lora, trainable: 'none' });
  try {
    const ids = o.chat ? tok.applyChatTemplateIds([{ role: 'user', content: o.prompt }], { addGenerationPrompt: true }) : tok.encode(o.prompt);
    if (ids.length === 0) throw new Error('the prompt is empty');
    const [group] = await sampleCompletions(policy, tok, [ids], {
      temperature: o.temperature ?? 0, top_p: o.topP ?? 1, top_k: 0, min_p: 0, repetition_penalty: 1,
      max_completion_length: o.maxNewTokens ?? 128, stop: [], groupSize: 1, seed: o.seed ?? 0,
    });
    const c = group![0]!;
    return { text: c.text, tokens: c.ids.length, ids: c.ids, finishReason: c.finishReason, promptTokens: ids.length, seconds: (performance.now() - started) / 1000 };
  } finally {
    policy.release();
  }
}
