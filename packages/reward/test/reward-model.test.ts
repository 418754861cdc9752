import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRewardFunction } from '../src/index.ts';
import { batchOf } from './helpers.ts';
import { buildTinyClassifier } from './tiny-classifier.ts';

describe('reward_model (sequence classification through transformers.js)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reward-model-'));
    // num_labels = 1, as TRL loads reward models. logit = mean over the tokens of E + 0.1;
    // E: good 2, bad -2, wine 0.5, every other token ([UNK], [CLS], [SEP]) 0.
    await buildTinyClassifier(path.join(dir, 'rm'), { labels: ['score'], words: { good: [2], bad: [-2], wine: [0.5] }, bias: [0.1] });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('scores prompt + completion with no special tokens, as TRL does', async () => {
    const fn = createRewardFunction('reward_model', { model: 'rm', batch_size: 2 }, { root: dir });
    const out = await fn(batchOf([
      // "the wine is good": the(0) wine(0.5) is(0) good(2) -> 2.5 / 4 + 0.1 = 0.725
      { prompt: 'The wine is ', completion: 'good' },
      // "bad bad bad wine": -2 -2 -2 + 0.5 = -5.5 / 4 + 0.1 = -1.275
      { prompt: 'bad bad ', completion: 'bad wine' },
      // "good": 2 / 1 + 0.1 = 2.1 (a second batch, padded on its own)
      { prompt: '', completion: 'good' },
    ]));
    expect(out).toHaveLength(3);
    [0.725, -1.275, 2.1].forEach((v, i) => expect(out[i]).toBeCloseTo(v, 5));
  });

  it('adds the special tokens when asked', async () => {
    const fn = createRewardFunction('reward_model', { model: path.join(dir, 'rm'), add_special_tokens: true });
    // "[CLS] good [SEP]": 2 / 3 + 0.1
    expect((await fn(batchOf([{ completion: 'good' }])))[0]).toBeCloseTo(2 / 3 + 0.1, 5);
  });

  it('names a missing folder or file', async () => {
    expect(() => createRewardFunction('reward_model', { model: 'absent' }, { root: dir })).toThrow(`reward 'reward_model': no model folder at ${path.join(dir, 'absent')}`);
    expect(() => createRewardFunction('reward_model', { model: dir })).toThrow(`reward 'reward_model': model folder ${dir} has no config.json`);
    expect(() => createRewardFunction('reward_model', {})).toThrow(/reward 'reward_model': option 'model'/);
  });

  it('takes an injected scorer', async () => {
    const fn = createRewardFunction('reward_model', { model: 'unused' }, { scoreTexts: async (texts) => texts.map((t) => t.length) });
    expect(await fn(batchOf([{ prompt: 'ab', completion: 'c' }]))).toEqual([3]);
  });
});
