// End to end: sample groups, score them, take GRPO steps: the reward the policy is trained on goes up.
import { afterAll, describe, expect, it } from 'vitest';
import { groupAdvantages } from '../src/training/advantages.ts';
import { Policy } from '../src/policy/policy.ts';
import { sample } from '../src/sampling/sample.ts';
import { Trainer } from '../src/training/trainer.ts';
import { tinyModel } from './tiny-models.ts';

let policy: Policy;
afterAll(async () => policy?.release());

describe('GRPO loop', () => {
  it('full fine-tuning raises the mean reward (share of completion tokens with id < 128) within 20 steps', async () => {
    const model = await tinyModel('smollm', { initStd: 0.1 });
    policy = new Policy(model, { trainable: 'full' });
    const G = 8;
    const prompts = [
      [3, 40, 41, 42],
      [9, 200, 7],
    ];
    const trainer = new Trainer(policy, { lr: 1e-2, microBatchSize: 8, grpo: { aggregation: 'grpo', beta: 0.01, maxCompletionLength: 6 } });
    const reward = (tokens: number[]) => tokens.filter((t) => t < 128).length / Math.max(tokens.length, 1);
    const means: number[] = [];
    for (let step = 0; step < 20; step++) {
      const groups = await sample(policy, prompts, { maxNewTokens: 6, temperature: 1, groupSize: G, seed: step, eosTokenIds: [] });
      const flat = groups.flat();
      const rewards = flat.map((c) => reward(c.tokens));
      means.push(rewards.reduce((a, b) => a + b, 0) / rewards.length);
      const adv = groupAdvantages(rewards, G);
      await trainer.grpoStep(flat.map((c, i) => ({ promptIds: prompts[c.promptIndex], completionIds: c.tokens, advantage: adv[i], oldLogprobs: c.logprobs })));
    }
    const first = (means[0] + means[1] + means[2]) / 3;
    const last = (means[17] + means[18] + means[19]) / 3;
    expect(last).toBeGreaterThan(first + 0.2);
  });
});
