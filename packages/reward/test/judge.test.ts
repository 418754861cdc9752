import { describe, expect, it } from 'vitest';
import { createRewardFunction, DEFAULT_JUDGE_TEMPLATE, extractJudgeScore, type JudgeStats } from '../src/index.ts';
import { batchOf } from './helpers.ts';

describe('extractJudgeScore', () => {
  const cases: [string, number | null][] = [
    ['8', 8],
    ['Score: 8/10', 8],
    ['**Rating**: 8 out of 10', 8],
    ["I'd give it 7.5", 7.5],
    ['<think>It mentions 3 facts, maybe a 4/10? No: score 2.</think>\nScore: 9', 9],
    ['10/10', 10],
    ['11', null],
    ['0', null],
    ['Score: 0/10', null],
    ['Score: 11/10', null],
    ['-3', null],
    ['no number here', null],
    ['', null],
    ['On a scale of 1 to 10, I would rate this answer 6.', 6],
    ['Rating (1-10): 7', 7],
    ['The answer is correct and grounded. 8', 8],
    ["I'd rate it 8/10 because it names 3 wines", 8],
    ['<think>I keep thinking about 4', null],
    ['the template opened the block: 3 </think> Score: 6', 6],
    ['Bewertung: 7,5', 7.5],
    ['Ich gebe 8 von 10 Punkten.', 8],
    ['Score:\n9', 9],
  ];
  for (const [reply, score] of cases) {
    it(`${JSON.stringify(reply)} -> ${score}`, () => expect(extractJudgeScore(reply)).toBe(score));
  }
});

describe('judge reward', () => {
  const batch = batchOf([
    { question: 'How many points?', context: 'Wine A: 92 points.', completion: '92 points' },
    { question: 'How many points?', context: 'Wine A: 92 points.', completion: 'I do not know' },
    { question: 'How many points?', context: 'Wine A: 92 points.', completion: 'Ninety' },
  ]);

  it('asks with the template, normalises (s - 1) / 9 and counts unparseable replies', async () => {
    const seen: string[][] = [];
    const stats: JudgeStats[] = [];
    const replies = ['Score: 10', 'Score: 1', 'I cannot judge this.'];
    const fn = createRewardFunction('judge', {}, {
      generateText: async (prompts) => { seen.push(prompts); return replies; },
      onJudgeStats: (s) => stats.push(s),
    });
    // 10 -> (10 - 1) / 9 = 1; 1 -> 0; no score -> null
    expect(await fn(batch)).toEqual([1, 0, null]);
    expect(seen[0][0]).toBe(DEFAULT_JUDGE_TEMPLATE
      .replace('{question}', 'How many points?').replace('{context}', 'Wine A: 92 points.').replace('{answer}', '92 points'));
    expect(stats).toEqual([{ replies: 3, unparseable: 1, totalReplies: 3, totalUnparseable: 1 }]);
    await fn(batch);
    expect(stats[1]).toEqual({ replies: 3, unparseable: 1, totalReplies: 6, totalUnparseable: 2 });
  });

  it('returns the raw 1-10 score with normalize: false and a custom template', async () => {
    const seen: string[] = [];
    const fn = createRewardFunction('judge', { normalize: false, template: 'Q={question} A={answer} R={reference}' }, {
      generateText: async (prompts) => { seen.push(...prompts); return prompts.map(() => '7.5/10'); },
    });
    expect(await fn(batchOf([{ question: 'q?', completion: 'a {context}', reference: null }]))).toEqual([7.5]);
    // A placeholder inside a field is not substituted again; a null reference is ''.
    expect(seen).toEqual(['Q=q? A=a {context} R=']);
  });

  it('needs a generator, a sound template, and as many replies as prompts', async () => {
    expect(() => createRewardFunction('judge')).toThrow(/reward 'judge' needs a text generator \(deps.generateText/);
    expect(() => createRewardFunction('judge', { template: 'Rate {answr}' }, { generateText: async () => [] }))
      .toThrow(/reward 'judge': option 'template': the template's placeholders must be among/);
    const short = createRewardFunction('judge', {}, { generateText: async () => ['8'] });
    await expect(async () => short(batch)).rejects.toThrow(/returned 1 replies for 3 prompts/);
  });
});
