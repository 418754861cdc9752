import { describe, expect, it } from 'vitest';
import specificity, { countSpecifics } from './specificity.ts';

// pipelines/rewards/specificity.ts, arena-preference's offline scorer: counts worked out by hand.
describe('the specificity reward', () => {
  it('counts numbers and capitalised words that do not start a sentence', () => {
    // Nicora starts the sentence; 2014, Euphoric, Grenache, Adelaida, District, 92 count.
    expect(countSpecifics('Nicora 2014 Euphoric Grenache (Adelaida District) scored 92 points; reviewers note candied black cherry.')).toBe(6);
    // "I" and sentence starts do not count: a vague answer has nothing specific.
    expect(countSpecifics('This one is fine, I think you would like it. It is nice.')).toBe(0);
    // $14 is a number; "It" after the full stop starts a sentence.
    expect(countSpecifics('Cheap. It sells for about $14 in Oregon.')).toBe(2);
  });

  it('maps 0..8 specifics onto 0..1, so two vague answers tie inside the 0.08 band', () => {
    expect(specificity({ completions: ['It is a nice wine.', 'Hard to say.', 'A B C D E F G H I J 1 2 3'] }))
      .toEqual([0, 0, 1]);
    expect(specificity({ completions: ['Made by Nicora in 2014.'] })).toEqual([2 / 8]);
  });
});
