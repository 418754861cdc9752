import path from 'node:path';
import { digestPaths, type PolicyConfig } from '@ragrpo/config';
import { POLICY_RECORD_VERSION, type PolicyRecord } from '@ragrpo/contracts';
import { expectedTensorShapes, loadTokenizer, readModelConfig, type ModelConfig } from '@ragrpo/model';

/** Where the folder came from: a folder, a hub id, a scratch build or a GGUF import (both into the stage's model/). */
export type PolicySource = PolicyRecord['source'];

export interface RecordInput {
  source: PolicySource;
  model: string;
  folder: string;
  location: PolicyRecord['location'];
  settings: PolicyConfig;
  warn?: (m: string) => void;
}

function parameterCount(config: ModelConfig): number {
  let n = 0;
  for (const shape of expectedTensorShapes(config).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * Checks that the folder is a model the engine loads (config and tokenizer; the weights are read
 * by the stages that run it) and records it with a digest of its files.
 */
export async function buildPolicyRecord(i: RecordInput): Promise<PolicyRecord> {
  const config = readModelConfig(path.join(i.folder, 'config.json'));
  const tokenizer = await loadTokenizer(i.folder, { configVocabSize: config.vocabSize });
  let maxSeq = i.settings.max_seq_length;
  if (maxSeq > config.maxPositionEmbeddings) {
    i.warn?.(`policy.max_seq_length ${maxSeq} is past the model's max_position_embeddings ${config.maxPositionEmbeddings}: using ${config.maxPositionEmbeddings}`);
    maxSeq = config.maxPositionEmbeddings;
  }
  return {
    format: 'ragrpo.policy',
    version: POLICY_RECORD_VERSION,
    source: i.source,
    model: i.model,
    location: i.location,
    digest: digestPaths(['.'], i.folder),
    architecture: config.architecture,
    num_parameters: parameterCount(config),
    vocab_size: config.vocabSize,
    max_seq_length: maxSeq,
    trainable: i.settings.trainable,
    lora: i.settings.lora,
    dtype: i.settings.dtype,
    has_chat_template: tokenizer.hasChatTemplate,
  };
}
