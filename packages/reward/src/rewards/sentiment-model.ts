import { pipeline, type TextClassificationOutput, type TextClassificationPipeline } from '@huggingface/transformers';
import { checkModelFolder, LOCAL_LOAD, localModelId } from '../models/local-folder.ts';
import type { TextClassifier } from './sentiment-lexicon.ts';

/**
 * A text-classification model folder (e.g. a converted oliverguhr/german-sentiment-bert) through
 * transformers.js' pipeline, as seed 001's `pipeline("sentiment-analysis", truncation=True,
 * max_length=512)`: each text's top label. The folder is checked now; the model loads on first use.
 */
export function modelClassifier(folder: string, batchSize: number): TextClassifier {
  checkModelFolder('sentiment', folder);
  let loaded: Promise<TextClassificationPipeline> | undefined;
  const load = () => (loaded ??= pipeline('text-classification', localModelId(folder), LOCAL_LOAD)
    .catch((err: Error) => {
      loaded = undefined;
      throw new Error(`reward 'sentiment': cannot load ${folder} with transformers.js (${err.message.split('\n')[0]})`);
    }) as Promise<TextClassificationPipeline>);
  return async (texts) => {
    const classify = await load();
    const labels: string[] = [];
    for (let start = 0; start < texts.length; start += batchSize) {
      const batch = texts.slice(start, start + batchSize);
      const out = await classify(batch, { top_k: 1 });
      // One text gives [{label, score}] (or [[...]] with top_k); several give one entry per text.
      const rows = (batch.length === 1 ? [out] : out) as (TextClassificationOutput | TextClassificationOutput[number])[];
      for (const row of rows) labels.push((Array.isArray(row) ? row[0] : row).label);
    }
    return labels;
  };
}
