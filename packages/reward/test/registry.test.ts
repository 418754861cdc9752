import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRewardFunction, KNOWN_REWARDS, loadUserReward, scoreRewards } from '../src/index.ts';
import { batchOf } from './helpers.ts';

describe('createRewardFunction', () => {
  it('knows the built-in rewards', () => {
    expect([...KNOWN_REWARDS].sort()).toEqual([
      'contains_reference', 'context_faithfulness', 'exact_match', 'format', 'judge', 'length', 'reward_model', 'sentiment', 'tfidf', 'token_f1',
    ]);
  });

  it('lists the known rewards for an unknown name, with the nearest', () => {
    expect(() => createRewardFunction('exact_mach')).toThrow(/unknown reward 'exact_mach' \(did you mean 'exact_match'\?\); known rewards: tfidf, sentiment, judge/);
    expect(() => createRewardFunction('zzzzzzzzzz')).toThrow(/^unknown reward 'zzzzzzzzzz'; known rewards: /);
  });
});

describe('loadUserReward', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reward-user-'));
    await writeFile(path.join(dir, 'mine.ts'), [
      "import type { RewardBatch } from '@ragrpo/reward';",
      'export default (b: RewardBatch) => b.completions.map((c) => c.length);',
      "export const shouty = (b: RewardBatch) => b.completions.map((c) => (c === c.toUpperCase() ? 1 : 0));",
      'export const notAFunction = 3;',
    ].join('\n'));
    await writeFile(path.join(dir, 'empty.js'), 'export const x = 1;\n');
    await writeFile(path.join(dir, 'broken.js'), 'export default (;\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('imports a TypeScript module\'s default or named export', async () => {
    const batch = batchOf([{ completion: 'AB' }, { completion: 'abc' }]);
    expect(await (await loadUserReward(path.join(dir, 'mine.ts')))(batch)).toEqual([2, 3]);
    expect(await (await loadUserReward(path.join(dir, 'mine.ts'), 'shouty'))(batch)).toEqual([1, 0]);
  });

  it('names the path when the module is missing, broken or has no such function', async () => {
    await expect(loadUserReward(path.join(dir, 'nope.ts'))).rejects.toThrow(`${path.join(dir, 'nope.ts')}: no such reward module`);
    await expect(loadUserReward(path.join(dir, 'empty.js'))).rejects.toThrow(`${path.join(dir, 'empty.js')}: export 'default' is not a reward function (it exports no function)`);
    await expect(loadUserReward(path.join(dir, 'mine.ts'), 'notAFunction')).rejects.toThrow(/mine\.ts: export 'notAFunction' is not a reward function \(its functions: default, shouty\)/);
    await expect(loadUserReward(path.join(dir, 'broken.js'))).rejects.toThrow(/broken\.js: cannot load the reward module/);
  });
});

describe('scoreRewards', () => {
  const batch = batchOf([{ question_id: 'q7', completion: 'a', reference: 'a' }, { question_id: 'q7', completion: 'b', reference: 'a' }]);

  it('runs every reward and returns [reward][completion], NaN and undefined as null', async () => {
    const out = await scoreRewards([
      { name: 'exact_match', fn: createRewardFunction('exact_match') },
      { name: 'custom', fn: () => [NaN, undefined as unknown as null] },
    ], batch);
    expect(out).toEqual([[1, 0], [null, null]]);
  });

  it('names a reward that throws, with the first question id', async () => {
    await expect(scoreRewards([{ name: 'boom', fn: () => { throw new Error('kaput'); } }], batch))
      .rejects.toThrow("reward 'boom' failed on the batch of question q7: kaput");
    await expect(scoreRewards([{ name: 'later', fn: async () => { throw new Error('async kaput'); } }], batch))
      .rejects.toThrow("reward 'later' failed on the batch of question q7: async kaput");
  });

  it('names a reward that returns the wrong shape or values', async () => {
    await expect(scoreRewards([{ name: 'short', fn: () => [1] }], batch)).rejects.toThrow("reward 'short' returned 1 values for 2 completions");
    await expect(scoreRewards([{ name: 'obj', fn: () => ({}) as unknown as number[] }], batch)).rejects.toThrow("reward 'obj' returned object, not an array of 2 numbers");
    await expect(scoreRewards([{ name: 'inf', fn: () => [1, Infinity] }], batch)).rejects.toThrow("reward 'inf' returned Infinity for completion 1 (question q7)");
    await expect(scoreRewards([{ name: 'str', fn: () => [1, '2' as unknown as number] }], batch)).rejects.toThrow(/reward 'str' returned "2" for completion 1/);
  });

  it('checks the batch lines up', async () => {
    const bad = { ...batch, completionIds: [[1]] };
    await expect(scoreRewards([], bad)).rejects.toThrow('reward batch: completionIds has 1 entries for 2 completions');
  });
});
