import { AutoModelForSequenceClassification, AutoTokenizer, type PreTrainedModel, type PreTrainedTokenizer, type Tensor } from '@huggingface/transformers';
import { z } from 'zod';
import { checkModelFolder, LOCAL_LOAD, localModelId } from '../models/local-folder.ts';
import { parseOptions } from '../registry/options.ts';
import type { RewardDeps, RewardFunction } from '../types.ts';
import { resolvePath } from './batch-helpers.ts';

export const RewardModelOptions = z.strictObject({
  /** A local sequence-classification folder (config.json, tokenizer.json, onnx/model.onnx). */
  model: z.string().min(1),
  batch_size: z.number().int().positive().default(8),
  /** Longer inputs are cut to this many tokens (the tokenizer's model_max_length when unset). */
  max_length: z.number().int().positive().optional(),
  /** TRL tokenizes prompt + completion with add_special_tokens=False; true adds [CLS]/[SEP] etc. */
  add_special_tokens: z.boolean().default(false),
});

type Scorer = (texts: string[]) => Promise<number[]>;

/**
 * A sequence-classification reward model through transformers.js, as TRL scores with one: the text
 * is prompt + completion, tokenized with right padding and no added special tokens, and the reward
 * is logits[:, 0] (TRL loads reward models with num_labels=1). The folder is checked now; the
 * model loads on first use.
 */
export function sequenceClassifierScorer(folder: string, o: z.output<typeof RewardModelOptions>): Scorer {
  checkModelFolder('reward_model', folder);
  let loaded: Promise<{ tokenizer: PreTrainedTokenizer; model: PreTrainedModel }> | undefined;
  const load = () => (loaded ??= (async () => {
    const id = localModelId(folder);
    try {
      const tokenizer = await AutoTokenizer.from_pretrained(id, { local_files_only: true });
      const model = await AutoModelForSequenceClassification.from_pretrained(id, LOCAL_LOAD);
      return { tokenizer, model };
    } catch (err) {
      loaded = undefined;
      throw new Error(`reward 'reward_model': cannot load ${folder} with transformers.js (${(err as Error).message.split('\n')[0]})`);
    }
  })());
  return async (texts) => {
    const { tokenizer, model } = await load();
    tokenizer.padding_side = 'right';
    const scores: number[] = [];
    for (let start = 0; start < texts.length; start += o.batch_size) {
      const batch = texts.slice(start, start + o.batch_size);
      // TRL does not truncate (an over-long input fails there); cutting to the limit keeps a run alive.
      const inputs = tokenizer(batch, { padding: true, truncation: true, max_length: o.max_length, add_special_tokens: o.add_special_tokens });
      const { logits } = await model(inputs) as { logits: Tensor };
      const [rows, labels] = logits.dims;
      const data = logits.data as Float32Array;
      for (let r = 0; r < rows; r++) scores.push(data[r * labels]);
    }
    return scores;
  };
}

/** reward_model: the reward model's logit for prompt + completion. */
export function createRewardModelReward(options: unknown, deps: RewardDeps): RewardFunction {
  const o = parseOptions('reward_model', RewardModelOptions, options);
  const score = deps.scoreTexts ?? sequenceClassifierScorer(resolvePath(deps, o.model), o);
  return async (batch) => {
    const texts = batch.prompts.map((p, i) => p + batch.completions[i]);
    const scores = texts.length ? await score(texts) : [];
    if (!Array.isArray(scores) || scores.length !== texts.length) {
      throw new Error(`reward 'reward_model': the scorer returned ${Array.isArray(scores) ? scores.length : typeof scores} scores for ${texts.length} texts`);
    }
    return scores;
  };
}
