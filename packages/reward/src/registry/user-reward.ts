import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RewardFunction } from '../types.ts';

/**
 * A user's reward module (TypeScript under tsx, or JavaScript) exporting a function of TRL's
 * shape, (batch) => (number | null)[]. A missing file, a module that fails to load, or an export
 * that is not a function throws one line naming the path.
 */
export async function loadUserReward(modulePath: string, exportName = 'default'): Promise<RewardFunction> {
  const file = path.resolve(modulePath);
  if (!existsSync(file)) throw new Error(`${file}: no such reward module`);
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(file).href) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file}: cannot load the reward module (${(err as Error).message.split('\n')[0]})`);
  }
  const fn = mod[exportName];
  if (typeof fn !== 'function') {
    const callable = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    const found = callable.length ? `its functions: ${callable.join(', ')}` : 'it exports no function';
    throw new Error(`${file}: export '${exportName}' is not a reward function (${found})`);
  }
  return fn as RewardFunction;
}
