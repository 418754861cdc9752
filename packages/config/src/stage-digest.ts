import { createHash } from 'node:crypto';

/** JSON with sorted keys, so reordering keys in YAML does not change a digest. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The part of a pipeline file one stage depends on: its own section plus the global seed.
 * Like DVC's `params`, a stage's cache key changes only when these change; upstream changes
 * reach it through upstream outputs instead.
 */
export function stageSettings(raw: Record<string, unknown>, stage: string): unknown {
  return { seed: raw.seed ?? 0, [stage]: raw[stage] ?? null };
}

export function stageDigest(raw: Record<string, unknown>, stage: string): string {
  return createHash('sha256').update(canonicalJson(stageSettings(raw, stage))).digest('hex').slice(0, 16);
}
