import { describe, expect, it } from 'vitest';
import { createRewardFunction, lengthScore } from '../src/index.ts';
import { batchOf } from './helpers.ts';

describe('format', () => {
  it('wants a think block followed by a non-empty answer', async () => {
    const fn = createRewardFunction('format');
    expect(await fn(batchOf([
      { completion: '<think>add 2 and 2</think>\nThe answer is 4.' },
      { completion: '<think>add 2 and 2</think>   ' },
      { completion: 'The answer is 4.' },
      { completion: 'The answer is 4. <think>late</think> more' },
    ]))).toEqual([1, 0, 0, 0]);
  });

  it('puts the reasoning column back in front of the answer', async () => {
    const fn = createRewardFunction('format');
    expect(await fn(batchOf([
      { completion: 'The answer is 4.', reasoning: 'add 2 and 2' },
      { completion: 'The answer is 4.', reasoning: null },
      { completion: '', reasoning: 'thinking only' },
    ], ['reasoning']))).toEqual([1, 0, 0]);
  });

  it('takes a user pattern and flags', async () => {
    const fn = createRewardFunction('format', { pattern: '^answer: \\d+$', flags: 'i' });
    expect(await fn(batchOf([{ completion: 'Answer: 42' }, { completion: 'Answer: forty-two' }, { completion: 'answer: 7' }]))).toEqual([1, 0, 1]);
    expect(() => createRewardFunction('format', { pattern: '(' })).toThrow(/reward 'format': option 'pattern' is not a valid regex/);
    expect(() => createRewardFunction('format', { pattern: 'x', flags: 'q' })).toThrow(/reward 'format': option 'flags'/);
  });
});

describe('length', () => {
  it('is 1 inside [min, max] and falls linearly over the margin', () => {
    // min 10, max 20, margin 5: 10..20 -> 1; 8 -> 1 - 2/5 = 0.6; 23 -> 1 - 3/5 = 0.4; 25 and 4 -> 0
    expect([10, 15, 20, 8, 23, 25, 4].map((n) => lengthScore(n, 10, 20, 5))).toEqual([1, 1, 1, 0.6, expect.closeTo(0.4, 12), 0, 0]);
    expect(lengthScore(21, 10, 20, 0)).toBe(0);
  });

  it('counts tokens (completion ids) or characters (code points)', async () => {
    const rows = batchOf([{ completion: 'ab', ids: [1, 2, 3, 4] }, { completion: 'äöü😀', ids: [1] }]);
    // tokens: 4 -> inside [2, 4]; 1 -> 1 below, margin 2 (= max - min) -> 0.5
    expect(await createRewardFunction('length', { min: 2, max: 4 })(rows)).toEqual([1, 0.5]);
    // chars: 2 -> inside; 4 code points (the emoji is one) -> inside [1, 4]
    expect(await createRewardFunction('length', { unit: 'chars', min: 1, max: 4, margin: 1 })(rows)).toEqual([1, 1]);
  });

  it('validates its range', () => {
    expect(() => createRewardFunction('length', { min: 5, max: 2 })).toThrow(/reward 'length': option 'min': min must not exceed max/);
    expect(() => createRewardFunction('length', { min: 1 })).toThrow(/reward 'length': option 'max'/);
  });
});
