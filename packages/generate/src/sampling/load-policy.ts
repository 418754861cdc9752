import { policyAdapterFolder, policyFolder, readPolicyRecord, type PolicyRecord } from '@ragrpo/contracts';
import { loadLora, loadModel, Policy, type Tokenizer } from '@ragrpo/model';

export interface LoadedPolicy {
  record: PolicyRecord;
  folder: string;
  policy: Policy;
  tokenizer: Tokenizer;
}

/**
 * The model a policy record points at, ready to sample: base weights, and a PEFT adapter on top:
 * `opts.adapter` when given (grpo-train's and evaluate's trained policy), else the record's own
 * (sft's LoRA warm-up). Frozen unless `trainable`.
 */
export async function loadPolicy(recordFile: string, root: string, opts: { adapter?: string; trainable?: 'none' | 'lora' | 'full' } = {}): Promise<LoadedPolicy> {
  const record = await readPolicyRecord(recordFile);
  const folder = policyFolder(record, recordFile, root);
  const model = await loadModel(folder);
  if (!model.tokenizer) throw new Error(`${folder}: the policy has no tokenizer (tokenizer.json + tokenizer_config.json)`);
  const adapter = opts.adapter ?? policyAdapterFolder(record, recordFile, root);
  const lora = adapter ? loadLora(adapter, model.config) : null;
  const policy = new Policy({ config: model.config, weights: model.weights }, { lora, trainable: opts.trainable ?? 'none' });
  return { record, folder, policy, tokenizer: model.tokenizer };
}
