/**
 * Reward options come from the pipeline YAML (`reward.options.<name>`), so they are validated with
 * zod and a mistake is reported as one line naming the reward, the option and, for a misspelt key,
 * the nearest known one.
 */
import { suggest } from '@ragrpo/config';
import type { z } from 'zod';

export function parseOptions<S extends z.ZodType>(reward: string, schema: S, options: unknown): z.output<S> {
  const r = schema.safeParse(options ?? {});
  if (r.success) return r.data;
  const known = knownKeys(schema);
  const problems = r.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => {
        const near = suggest(k, known);
        return `unknown option '${k}'${near ? ` (did you mean '${near}'?)` : ''}; known: ${known.join(', ')}`;
      }).join('; ');
    }
    const at = issue.path.length ? `option '${issue.path.join('.')}'` : 'options';
    return `${at}: ${issue.message}`;
  });
  throw new Error(`reward '${reward}': ${problems.join('; ')}`);
}

function knownKeys(schema: z.ZodType): string[] {
  let s = schema as unknown as { def?: { type?: string; shape?: Record<string, unknown>; in?: unknown; innerType?: unknown } };
  // Unwrap refinements/pipes/defaults down to the object.
  for (let i = 0; i < 5 && s?.def && s.def.type !== 'object'; i++) s = (s.def.in ?? s.def.innerType) as typeof s;
  return s?.def?.shape ? Object.keys(s.def.shape) : [];
}
