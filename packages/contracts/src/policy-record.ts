import path from 'node:path';
import { readFile } from 'node:fs/promises';

/**
 * What the policy stage hands every later stage: where the start model's Hugging Face folder is,
 * a digest of its files, and how later stages train it. A model folder the user named is recorded,
 * not copied; a scratch model lives in the policy stage's own folder.
 */
export interface PolicyRecord {
  format: 'ragrpo.policy';
  version: 1;
  /** How the folder came to be: a local folder, a hub id (found in or downloaded to models_dir), built here, or imported from a GGUF file. */
  source: 'folder' | 'hub' | 'scratch' | 'gguf';
  /** What the pipeline file said: the folder or hub id, or 'scratch'. */
  model: string;
  /** The folder: relative to the record file ('artifact', for scratch) or to the workspace root ('workspace'), or absolute. */
  location: { base: 'artifact' | 'workspace' | 'absolute'; path: string };
  /** sha256 over the folder's files (relative path and content), as the Nx plugin hashes data files. */
  digest: string;
  architecture: string;
  num_parameters: number;
  vocab_size: number;
  max_seq_length: number;
  trainable: 'lora' | 'full';
  lora: { r: number; lora_alpha: number; lora_dropout: number; target_modules: string[] };
  dtype: 'float32';
  has_chat_template: boolean;
  /**
   * A PEFT adapter (adapter_config.json + adapter_model.safetensors) to apply over the folder at `location`
   * (the sft stage's LoRA warm-up); absent: the folder is the whole policy. Paths as in `location`.
   * `digest` (sha256 over the adapter's files, as `digest`) puts the adapter's content in the record, so a
   * re-trained adapter changes the record file: stages that read it hash only the record.
   */
  adapter?: { base: 'artifact' | 'workspace' | 'absolute'; path: string; digest?: string };
}

export const POLICY_RECORD_VERSION = 1;

/** Where a record stores a folder: relative to the workspace when it is inside it (clones and restored caches move), else absolute. */
export function workspaceLocation(folder: string, root: string): PolicyRecord['location'] {
  const rel = path.relative(root, folder);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? { base: 'workspace', path: rel } : { base: 'absolute', path: folder };
}

/** The model folder a record points at, for a record read from `recordFile` in a workspace at `root`. */
export function policyFolder(record: PolicyRecord, recordFile: string, root: string): string {
  const { base, path: p } = record.location;
  if (base === 'absolute') return p;
  return path.resolve(base === 'artifact' ? path.dirname(recordFile) : root, p);
}

/** The adapter folder a record applies over its model folder, or null when the record has none. */
export function policyAdapterFolder(record: PolicyRecord, recordFile: string, root: string): string | null {
  if (!record.adapter) return null;
  const { base, path: p } = record.adapter;
  if (base === 'absolute') return p;
  return path.resolve(base === 'artifact' ? path.dirname(recordFile) : root, p);
}

export async function readPolicyRecord(file: string): Promise<PolicyRecord> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${file}: not found. Run the policy stage first (nx runs it for you as a dependency).`);
    throw err;
  }
  const record = JSON.parse(text) as PolicyRecord;
  if (record.format !== 'ragrpo.policy' || record.version !== POLICY_RECORD_VERSION) {
    throw new Error(`${file}: policy record format ${record.format ?? '?'} v${record.version ?? '?'}, this build reads ragrpo.policy v${POLICY_RECORD_VERSION}. Re-run the policy stage.`);
  }
  return record;
}
