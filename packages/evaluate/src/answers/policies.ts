import { readFileSync } from 'node:fs';
import path from 'node:path';
import { policyAdapterFolder, policyFolder, readPolicyRecord, type PolicyRecord } from '@ragrpo/contracts';

/** A policy to evaluate: its record, the base model folder and the adapter over it (if any). */
export interface PolicyRef {
  label: 'before' | 'after';
  recordFile: string;
  record: PolicyRecord;
  folder: string;
  adapter: string | null;
  /** Who wrote the record: the stage folder's name (policy, sft, grpo-train). */
  stage: string;
}

export async function policyRef(label: PolicyRef['label'], recordFile: string, root: string): Promise<PolicyRef> {
  const record = await readPolicyRecord(recordFile);
  return {
    label, recordFile, record,
    folder: policyFolder(record, recordFile, root),
    adapter: policyAdapterFolder(record, recordFile, root),
    stage: path.basename(path.dirname(recordFile)),
  };
}

/** What an adapter folder says it was trained on (PEFT's base_model_name_or_path), if anything. */
function adapterBase(dir: string): string | null {
  try {
    const cfg = JSON.parse(readFileSync(path.join(dir, 'adapter_config.json'), 'utf8')) as { base_model_name_or_path?: unknown };
    return typeof cfg.base_model_name_or_path === 'string' ? cfg.base_model_name_or_path : null;
  } catch {
    return null;
  }
}

const short = (d: string) => d.slice(0, 12);

/**
 * The trained policy must be comparable with the one before it: an adapter must sit on the very
 * base model the before policy runs (same digest of the folder's files), and a fully trained model
 * must share the architecture and vocabulary (the prompts were tokenized once, by the before
 * policy's tokenizer). Otherwise the error names both models.
 */
export function checkComparable(before: PolicyRef, after: PolicyRef): void {
  const where = (p: PolicyRef) => `${p.record.model} (${p.folder}, digest ${short(p.record.digest)})`;
  if (after.adapter) {
    if (after.record.digest !== before.record.digest) {
      const named = adapterBase(after.adapter);
      throw new Error(`evaluate: the trained policy's adapter ${after.adapter} was trained on ${where(after)}${named ? `, named ${named} in its adapter_config.json` : ''}, `
        + `but the policy before training (${before.stage}) is ${where(before)}: an adapter only applies to the base model it was trained on. Re-run grpo-train on this pipeline (nx runs it as a dependency)`);
    }
    return;
  }
  const a = after.record;
  const b = before.record;
  if (a.architecture !== b.architecture || a.vocab_size !== b.vocab_size) {
    throw new Error(`evaluate: the trained policy ${where(after)} is a ${a.architecture} with ${a.vocab_size} tokens, but the policy before training (${before.stage}) ${where(before)} `
      + `is a ${b.architecture} with ${b.vocab_size}: the prompts were tokenized for the latter. Re-run grpo-train on this pipeline`);
  }
}

/** Wraps an adapter that does not load over the base (shapes, modules) in a message that names both. */
export function adapterLoadError(ref: PolicyRef, err: Error): Error {
  if (!ref.adapter) return err;
  const named = adapterBase(ref.adapter);
  return new Error(`evaluate: the ${ref.label} policy's adapter ${ref.adapter}${named ? ` (trained on ${named})` : ''} does not fit its base model ${ref.record.model} (${ref.folder}): ${err.message}`);
}
