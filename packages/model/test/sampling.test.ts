// KV-cache decoding and the sampler: cached decode reproduces the full forward pass, sampling is reproducible
// from its seed, temperature 0 is greedy, and a group of G completions costs one shared prefill.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Policy } from '../src/policy/policy.ts';
import { chooseToken, sampleFromProbs } from '../src/sampling/choose-token.ts';
import { sample, type Completion } from '../src/sampling/sample.ts';
import { Prng } from '../src/prng.ts';
import { relError, tinyModel } from './tiny-models.ts';

let policy: Policy;
beforeAll(async () => {
  // qwen2 preset: GQA + biases + tied head, the most involved decode path.
  policy = new Policy(await tinyModel('qwen2', { initStd: 0.1 }));
});
afterAll(async () => policy.release());

const prompts = [
  [3, 17, 250, 41, 9, 77, 120],
  [5, 300, 12],
];

function logSoftmax(row: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i] - max);
  return Array.from(row, (x) => x - max - Math.log(s));
}

describe('KV-cache decoding', () => {
  it('gives the logits of a full forward pass at every generated position (left-padded batch, G = 2)', async () => {
    const seen = new Map<string, Float32Array>();
    const groups = await sample(policy, prompts, {
      maxNewTokens: 8,
      temperature: 1,
      groupSize: 2,
      seed: 7,
      eosTokenIds: [],
      onLogits: (row, step, lg) => seen.set(`${row}:${step}`, Float32Array.from(lg)),
    });
    const V = policy.config.vocabSize;
    let rows = 0;
    for (let p = 0; p < prompts.length; p++) {
      for (let m = 0; m < 2; m++) {
        const c = groups[p][m];
        expect(c.tokens).toHaveLength(8);
        // Full forward of the unpadded prompt + completion, no cache.
        const full = await policy.forwardLogits([[...prompts[p], ...c.tokens]]);
        for (let step = 0; step < 8; step++) {
          const pos = prompts[p].length - 1 + step;
          const expected = full.data.subarray(pos * V, (pos + 1) * V);
          const got = seen.get(`${p * 2 + m}:${step}`)!;
          expect(relError(got, expected)).toBeLessThan(1e-5);
          // and the reported log-prob is the full pass's log-prob of the sampled token
          expect(c.logprobs[step]).toBeCloseTo(logSoftmax(expected)[c.tokens[step]], 4);
        }
        rows++;
      }
    }
    expect(rows).toBe(4);
  });
});

describe('per-token log-probs (the training layout)', () => {
  it('of ragged, padded pairs equal the log-softmax of each unpadded sequence', async () => {
    const pairs = [
      { promptIds: [3, 17, 250, 41, 9], completionIds: [12, 300, 45] },
      { promptIds: [5], completionIds: [7, 8, 9, 10, 11, 12, 13] },
      { promptIds: [8, 2, 77], completionIds: [1] },
      { promptIds: [100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117], completionIds: [4, 4] },
    ];
    // batchSize 3: two session runs, the second with two filler rows
    const got = await policy.logprobs(pairs, { batchSize: 3 });
    const V = policy.config.vocabSize;
    for (let i = 0; i < pairs.length; i++) {
      const { promptIds, completionIds } = pairs[i];
      const full = await policy.forwardLogits([[...promptIds, ...completionIds]]);
      expect(got[i]).toHaveLength(completionIds.length);
      completionIds.forEach((tok, t) => {
        const pos = promptIds.length - 1 + t;
        expect(got[i][t]).toBeCloseTo(logSoftmax(full.data.subarray(pos * V, (pos + 1) * V))[tok], 4);
      });
    }
  });
});

describe('sampler', () => {
  const run = (seed: number, extra: object = {}) =>
    sample(policy, prompts, { maxNewTokens: 10, temperature: 1.0, topK: 50, topP: 0.95, groupSize: 3, seed, eosTokenIds: [], ...extra });
  const tokens = (g: Completion[][]) => g.map((x) => x.map((c) => c.tokens));

  it('same seed gives the same completions; another seed gives others', async () => {
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    expect(tokens(a)).toEqual(tokens(b));
    expect(a[0][0].logprobs).toEqual(b[0][0].logprobs);
    expect(tokens(c)).not.toEqual(tokens(a));
    // group members are distinct samples, not copies
    expect(new Set(a[0].map((c) => c.tokens.join(','))).size).toBeGreaterThan(1);
  });

  it('temperature 0 is greedy: each token is the argmax of the full-pass logits', async () => {
    const [[c]] = await sample(policy, [prompts[0]], { maxNewTokens: 6, temperature: 0, eosTokenIds: [] });
    const full = await policy.forwardLogits([[...prompts[0], ...c.tokens]]);
    const V = policy.config.vocabSize;
    for (let step = 0; step < 6; step++) {
      const row = full.data.subarray((prompts[0].length - 1 + step) * V, (prompts[0].length + step) * V);
      let best = 0;
      for (let i = 1; i < V; i++) if (row[i] > row[best]) best = i;
      expect(c.tokens[step]).toBe(best);
    }
  });

  it('plain temperature sampling (softmax in the decode graph) reports log p under softmax(logits / T) of a full pass', async () => {
    const T = 0.7;
    const opts = { maxNewTokens: 6, temperature: T, groupSize: 2, seed: 5, eosTokenIds: [] };
    const groups = await sample(policy, [prompts[1]], opts);
    expect(tokens(await sample(policy, [prompts[1]], opts))).toEqual(tokens(groups));
    const V = policy.config.vocabSize;
    for (const c of groups[0]) {
      const full = await policy.forwardLogits([[...prompts[1], ...c.tokens]]);
      c.tokens.forEach((tok, step) => {
        const pos = prompts[1].length - 1 + step;
        const row = Array.from(full.data.subarray(pos * V, (pos + 1) * V), (x) => x / T);
        expect(c.logprobs[step]).toBeCloseTo(logSoftmax(row)[tok], 4);
      });
    }
  });

  it('draws tokens with the frequencies of the probabilities, never a zero-probability one', () => {
    const p = Float32Array.from([0.5, 0, 0.3, 0.2]);
    const rng = new Prng(9);
    const counts = [0, 0, 0, 0];
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampleFromProbs(p, rng)]++;
    expect(counts[1]).toBe(0);
    // binomial standard deviation at n = 20000 is <= 0.0036: 0.015 is over 4 of them
    [0.5, 0, 0.3, 0.2].forEach((q, i) => expect(Math.abs(counts[i] / n - q)).toBeLessThan(0.015));
  });

  it('a group of G completions runs the prefill once, then one decode run per token', async () => {
    const before = { ...policy.runs };
    const groups = await sample(policy, prompts, { maxNewTokens: 5, temperature: 1, groupSize: 4, seed: 3, eosTokenIds: [] });
    expect(groups.map((g) => g.length)).toEqual([4, 4]);
    expect(policy.runs.prefill - before.prefill).toBe(1);
    // 5 tokens: the first comes from the prefill logits, the other 4 from batched decode steps
    expect(policy.runs.decode - before.decode).toBe(4);
  });

  it('stops at EOS (kept as the last token) and marks truncation at max new tokens', async () => {
    // Make the greedy continuation's 3rd token an EOS id: generation must stop right there.
    const [[greedy]] = await sample(policy, [prompts[1]], { maxNewTokens: 6, temperature: 0, eosTokenIds: [] });
    const eos = greedy.tokens[2];
    const [[c]] = await sample(policy, [prompts[1]], { maxNewTokens: 6, temperature: 0, eosTokenIds: [eos] });
    const firstEos = greedy.tokens.indexOf(eos);
    expect(c.tokens).toEqual(greedy.tokens.slice(0, firstEos + 1));
    expect(c.finishReason).toBe('eos');
    expect(c.truncated).toBe(false);
    expect(greedy.finishReason).toBe('length');
    expect(greedy.truncated).toBe(true);
  });

  it('stops once the decoded text contains a stop string', async () => {
    const decode = (ids: number[]) => ids.map((i) => `<${i}>`).join('');
    const [[greedy]] = await sample(policy, [prompts[0]], { maxNewTokens: 6, temperature: 0, eosTokenIds: [] });
    const stop = `<${greedy.tokens[1]}>`;
    const [[c]] = await sample(policy, [prompts[0]], { maxNewTokens: 6, temperature: 0, eosTokenIds: [], stopStrings: [stop], decode });
    expect(c.finishReason).toBe('stop');
    expect(c.tokens).toEqual(greedy.tokens.slice(0, greedy.tokens.indexOf(greedy.tokens[1]) + 1));
    expect(c.text).toBe(decode(c.tokens));
  });

  it('refuses a prompt plus max new tokens longer than the model allows', async () => {
    const max = policy.config.maxPositionEmbeddings;
    await expect(sample(policy, [prompts[0]], { maxNewTokens: max })).rejects.toThrow(/max_position_embeddings/);
  });
});

describe('sliding-window decoding (mistral, window 6)', () => {
  it('greedy tokens and their log-probs equal a windowed full pass, for left-padded prompts longer than the window', async () => {
    const windowed = new Policy(await tinyModel('mistral', { initStd: 0.1, slidingWindow: 6 }));
    try {
      const ps = [
        [3, 17, 250, 41, 9, 77, 120, 8, 61],
        [5, 300, 12, 44],
      ];
      const groups = await sample(windowed, ps, { maxNewTokens: 8, temperature: 0, eosTokenIds: [] });
      const V = windowed.config.vocabSize;
      for (let p = 0; p < ps.length; p++) {
        const c = groups[p][0];
        const full = await windowed.forwardLogits([[...ps[p], ...c.tokens]]);
        c.tokens.forEach((tok, step) => {
          const row = full.data.subarray((ps[p].length - 1 + step) * V, (ps[p].length + step) * V);
          const lp = logSoftmax(row);
          let best = 0;
          for (let i = 1; i < V; i++) if (row[i] > row[best]) best = i;
          expect(tok).toBe(best);
          expect(c.logprobs[step]).toBeCloseTo(lp[tok], 4);
        });
      }
    } finally {
      await windowed.release();
    }
  });
});

describe('logit processors', () => {
  const logits = Float32Array.from([2.0, 1.0, 0.5, -1.0, 3.0]);
  const scratch = new Float64Array(5);
  const draw = (o: Partial<Parameters<typeof chooseToken>[2]>, n = 4000) => {
    const rng = new Prng(1);
    const counts = new Array(5).fill(0);
    for (let i = 0; i < n; i++) counts[chooseToken(logits, scratch, { temperature: 1, topK: 0, topP: 1, penalty: 1, seen: new Set(), rng, ...o })]++;
    return counts.map((c) => c / n);
  };
  it('top-k keeps only the k largest logits', () => {
    const f = draw({ topK: 2 });
    expect(f[1] + f[2] + f[3]).toBe(0);
    // renormalised softmax over {3.0, 2.0}: e^1/(1+e^1) = 0.731
    expect(f[4]).toBeCloseTo(Math.E / (1 + Math.E), 1);
  });
  it('top-p keeps the smallest set reaching the mass', () => {
    // softmax: p(4) = 0.629, p(0) = 0.231: topP 0.7 needs tokens 4 and 0 only
    const f = draw({ topP: 0.7 });
    expect(f[1] + f[2] + f[3]).toBe(0);
    expect(f[0]).toBeGreaterThan(0.2);
  });
  it('min-p drops tokens below min_p x the top probability (transformers MinPLogitsWarper)', () => {
    // softmax: p = [0.2294, 0.0844, 0.0512, 0.0114, 0.6236]; min_p 0.1 -> threshold 0.0624: tokens 2 and 3 go,
    // and the rest renormalise: p(4) = 0.6236 / (0.6236 + 0.2294 + 0.0844) = 0.6652
    const f = draw({ minP: 0.1 }, 20_000);
    expect(f[2] + f[3]).toBe(0);
    expect(f[4]).toBeCloseTo(0.6652, 1);
    expect(f[1]).toBeGreaterThan(0.05);
    // after top-k, as transformers orders them: top-k 3 keeps {4, 0, 1}; min_p 0.2 (threshold 0.1247) then drops 1
    const g = draw({ topK: 3, minP: 0.2 }, 20_000);
    expect(g[1] + g[2] + g[3]).toBe(0);
    expect(g[4]).toBeCloseTo(0.6236 / (0.6236 + 0.2294), 1);
  });
  it('repetition penalty divides positive and multiplies negative logits of seen tokens', () => {
    // penalty 10 on token 4: 3.0 -> 0.3, so greedy picks token 0 (2.0)
    expect(chooseToken(logits, scratch, { temperature: 0, topK: 0, topP: 1, penalty: 10, seen: new Set([4]), rng: new Prng(0) })).toBe(0);
    expect(chooseToken(logits, scratch, { temperature: 0, topK: 0, topP: 1, penalty: 1, seen: new Set([4]), rng: new Prng(0) })).toBe(4);
  });
  it('filters like a full sort of the vocabulary would (top-k, top-p, both), on a large vocabulary', () => {
    // The reference: sort every id by probability, cut by k, then by the nucleus mass, walk in that order.
    const V = 5000;
    const gen = new Prng(3);
    const big = Float32Array.from({ length: V }, () => gen.uniform(-4, 4) ** 3 / 8);
    const reference = (u: number, topK: number, topP: number, t: number) => {
      const p = Array.from(big, (l) => l / t);
      const max = Math.max(...p);
      const e = p.map((l) => Math.exp(l - max));
      let order = e.map((_, i) => i).sort((a, b) => e[b] - e[a] || a - b);
      if (topK) order = order.slice(0, topK);
      let mass = order.reduce((a, i) => a + e[i], 0);
      if (topP < 1) {
        let cum = 0;
        let keep = 0;
        while (keep < order.length && cum < topP * mass) cum += e[order[keep++]];
        order = order.slice(0, Math.max(keep, 1));
        mass = cum;
      }
      let r = u * mass;
      for (const i of order) if ((r -= e[i]) < 0) return i;
      return order[order.length - 1];
    };
    const scratchBig = new Float64Array(V);
    for (const [topK, topP] of [[50, 1], [0, 0.9], [40, 0.8]] as const) {
      for (let n = 0; n < 30; n++) {
        const seed = 100 + n;
        const u = new Prng(seed).next();
        const got = chooseToken(big, scratchBig, { temperature: 0.7, topK, topP, penalty: 1, seen: new Set(), rng: new Prng(seed) });
        expect(got).toBe(reference(u, topK, topP, 0.7));
      }
    }
  });
});
