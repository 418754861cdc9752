import type { RewardBatch, RewardFunction, RewardValues } from '../types.ts';

export interface NamedReward {
  name: string;
  fn: RewardFunction;
}

/** Every array of the batch must hold one entry per completion, or rewards would misalign. */
export function checkBatch(batch: RewardBatch): void {
  const n = batch.completions.length;
  const fields: [string, unknown][] = [['prompts', batch.prompts], ['completionIds', batch.completionIds],
    ...Object.entries(batch.columns).map(([k, v]) => [`columns.${k}`, v] as [string, unknown])];
  for (const [field, value] of fields) {
    if (!Array.isArray(value) || value.length !== n) {
      throw new Error(`reward batch: ${field} has ${Array.isArray(value) ? value.length : 'no'} entries for ${n} completions`);
    }
  }
}

/**
 * Runs every reward over the batch, one after the other (model-backed rewards share the CPU), and
 * returns their values as [reward][completion]. A reward that throws is reported with its name and
 * the first completion's question id; one that returns the wrong number of values, or anything
 * but finite numbers and null, is reported with its name. NaN and undefined count as null (TRL
 * turns None into NaN).
 */
export async function scoreRewards(functions: readonly NamedReward[], batch: RewardBatch): Promise<RewardValues[]> {
  checkBatch(batch);
  const n = batch.completions.length;
  const out: RewardValues[] = [];
  for (const { name, fn } of functions) {
    let values: unknown;
    try {
      values = await fn(batch);
    } catch (err) {
      const q = batch.columns.question_id[0];
      throw new Error(`reward '${name}' failed${q !== undefined ? ` on the batch of question ${q}` : ''}: ${(err as Error).message}`, { cause: err });
    }
    if (!Array.isArray(values)) throw new Error(`reward '${name}' returned ${typeof values}, not an array of ${n} numbers`);
    if (values.length !== n) throw new Error(`reward '${name}' returned ${values.length} values for ${n} completions`);
    out.push(values.map((v, i) => {
      if (v === null || v === undefined || Number.isNaN(v)) return null;
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new Error(`reward '${name}' returned ${typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v)} for completion ${i} (question ${batch.columns.question_id[i]}); expected a finite number or null`);
      }
      return v;
    }));
  }
  return out;
}
