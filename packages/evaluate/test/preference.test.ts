import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cutOff, predictPreference, preferenceMetrics, scorePairsInReplicas, scorePreferences, sideText,
  type PairSides, type Prediction, type ScorerConfig, type Winner,
} from '../src/index.ts';

// Oracle: tools/reference/evaluate_stats_fixtures.py runs seed 004's own cut_off and inference rule
// on these hand-made pairs, and sklearn.metrics.log_loss on the predictions.
const fx = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', 'preference.json'), 'utf8'));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'evaluate-pref-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("seed 004's character budget", () => {
  it.each(fx.cut_off as { prompt: string[]; response_a: string[]; response_b: string[]; max_chars: number; expected: Record<string, string[]> }[])(
    'keeps whole turns from the front (budget $max_chars)', (c) => {
      const cut = cutOff(c, c.max_chars);
      expect(cut.prompt).toEqual(c.expected.prompt);
      expect(cut.response_a).toEqual(c.expected.response_a);
      expect(cut.response_b).toEqual(c.expected.response_b);
    });

  it('counts prompt + both responses together, and says when it had to cut inside the first turn', () => {
    // 3 turns of 10 + 10 + 10 characters: 30 a turn, so 65 characters keep two turns.
    const t = (s: string) => [s.repeat(10), s.repeat(10), s.repeat(10)];
    const two = cutOff({ prompt: t('p'), response_a: t('a'), response_b: t('b') }, 65);
    expect(two).toMatchObject({ turnsKept: 2, chars: 60 });
    const cut = cutOff({ prompt: ['p'.repeat(2000)], response_a: ['a'.repeat(6000)], response_b: ['b'] }, 7200);
    expect(cut).toMatchObject({ turnsKept: 0, chars: 1000 + 3000 + 1 });
    // a smaller budget scales seed 004's 1000 / 3000 of 7200
    expect(cutOff({ prompt: ['p'.repeat(2000)], response_a: ['a'.repeat(5000)], response_b: ['b'.repeat(5000)] }, 720)).toMatchObject({ turnsKept: 0, chars: 100 + 300 + 300 });
  });

  it('renders a side as a transcript whose last reply is the completion', () => {
    expect(sideText(['hi', 'more?'], ['hello', 'sure'])).toEqual({ prompt: 'User: hi\n\nAssistant: hello\n\nUser: more?\n\nAssistant: ', completion: 'sure' });
  });
});

const pairs = fx.pairs as { id: string; score_a: number | null; score_b: number | null; winner: Winner | null; prediction: Prediction }[];

describe("seed 004's prediction, log loss and accuracy", () => {
  it.each(pairs)('$id: scores $score_a / $score_b', (p) => {
    const got = predictPreference(p.score_a, p.score_b, fx.tie_threshold);
    got.forEach((x, k) => expect(x).toBeCloseTo(p.prediction[k], 12));
  });

  it('log loss and accuracy over the labelled pairs equal the oracle (sklearn)', () => {
    const m = preferenceMetrics(pairs.map((p) => predictPreference(p.score_a, p.score_b, fx.tie_threshold)), pairs.map((p) => p.winner))!;
    expect(m.labelled).toBe(fx.labelled);
    expect(m.log_loss).toBeCloseTo(fx.log_loss, 10);
    expect(m.accuracy).toBeCloseTo(fx.accuracy, 12);
  });

  it('has no metrics without labels', () => {
    expect(preferenceMetrics([[0.5, 0.3, 0.2]], [null])).toBeNull();
  });
});

describe('two worker-thread replicas', () => {
  // A user reward that reads the score out of the reply, so the arithmetic can be checked end to end.
  const module = path.join(tmp, 'score-reward.ts');
  writeFileSync(module, `export default function (batch: { completions: string[] }) {
  return batch.completions.map((c) => { const m = /score=(-?[0-9.]+)/.exec(c); if (c.includes('explode')) throw new Error('bad reply'); return m ? Number(m[1]) : null; });
}
`);
  const config: ScorerConfig = {
    kind: 'reward', name: 'mine', root: tmp,
    spec: { reward_funcs: ['mine'], reward_weights: [1], options: {}, custom: { mine: { module, export: 'default', options: {}, sha256: '' } }, scale_rewards: 'none', multi_objective_aggregation: 'sum_then_normalize' },
  };

  it('split the pairs 0::2 and 1::2, and the scores come back in order', async () => {
    const sides: PairSides[] = Array.from({ length: 7 }, (_, i) => ({ id: `p${i}`, a: { prompt: 'User: q\n\nAssistant: ', completion: `score=${i}` }, b: { prompt: '', completion: `score=${-i}` } }));
    let ticks = 0;
    const r = await scorePairsInReplicas(config, sides, { replicas: 2, batchSize: 2, onPairs: (n) => { ticks += n; } });
    expect(r.scores).toEqual(sides.map((_, i) => [i, i === 0 ? 0 : -i]));
    expect(r.replica).toEqual([0, 1, 0, 1, 0, 1, 0]);
    expect(ticks).toBe(7);
  });

  it('scores a preference set end to end: failures predict uniform, the submission has seed 004\'s columns', async () => {
    const rows = pairs.map((p) => ({
      pair_id: p.id, prompt: ['Which wine?'],
      response_a: [p.score_a === null ? 'explode' : `score=${p.score_a}`], response_b: [p.score_b === null ? 'explode' : `score=${p.score_b}`],
      winner: p.winner,
    }));
    const r = await scorePreferences(rows, config, { tieThreshold: fx.tie_threshold, maxChars: 7200, replicas: 2, batchSize: 4 });
    expect(r.errors).toBe(1);
    expect(r.metrics!.log_loss).toBeCloseTo(fx.log_loss, 6);
    expect(r.metrics!.accuracy).toBeCloseTo(fx.accuracy, 12);
    const lines = r.submission.trim().split('\n');
    expect(lines[0]).toBe('id,winner_model_a,winner_model_b,winner_tie');
    expect(lines).toHaveLength(pairs.length + 1);
    expect(lines[3]).toBe('p3,0.00005,0.00005,0.9999');
    expect(lines[6]).toBe('p6,0.33334,0.33333,0.33333');
  });
});
