// Frozen matrices as graph inputs (PolicyOptions.frozenWeights 'inputs', the default): every session of a
// policy reads the one JS copy of the base. The logits, log-probs and samples must be those of the
// initializer graphs (each session with its own copy), and a session sees the arrays as they are now.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../src/loading/load-model.ts';
import { createLora } from '../src/lora/lora.ts';
import { Policy } from '../src/policy/policy.ts';
import { sample } from '../src/sampling/sample.ts';
import { relError, tinyModel } from './tiny-models.ts';

let model: LoadedModel;
const policies: Policy[] = [];
const make = (frozenWeights: 'inputs' | 'initializers', lora = createLora(model.config, { r: 4, alpha: 8, targetModules: 'all-linear' }, 3)) => {
  const p = new Policy(model, { lora, trainable: 'lora', frozenWeights });
  policies.push(p);
  return p;
};
const ids = [[4, 99, 230, 17, 8, 301, 44, 2], [12, 7, 7, 400, 31, 5, 90, 222]];

beforeAll(async () => { model = await tinyModel('llama', { initStd: 0.1 }); });
afterAll(async () => { for (const p of policies) await p.release(); });

describe("frozenWeights: 'inputs'", () => {
  it('takes the frozen matrices as session inputs, fed by the pool, and keeps norms as initializers', async () => {
    const p = make('inputs');
    const feeds = p.frozenFeeds();
    expect(Object.keys(feeds)).toContain('model.embed_tokens.weight');
    expect(Object.keys(feeds)).toContain('model.layers.0.self_attn.q_proj.weight');
    expect(Object.keys(feeds).some((k) => k.includes('norm'))).toBe(false);
    // Wrapped, not copied: the feed is the model's own array.
    expect(feeds['model.embed_tokens.weight'].data).toBe(model.weights.get('model.embed_tokens.weight')!.data);
    expect(make('initializers').frozenFeeds()).toEqual({});
  });

  it('gives the logits, reference log-probs and samples of the initializer graphs', async () => {
    const [a, b] = [make('inputs'), make('initializers')];
    const [la, lb] = [await a.forwardLogits(ids), await b.forwardLogits(ids)];
    expect(relError(la.data, lb.data)).toBeLessThan(1e-5);
    const pairs = ids.map((p) => ({ promptIds: p.slice(0, 5), completionIds: p.slice(5) }));
    const [ra, rb] = [await a.logprobs(pairs, { reference: true }), await b.logprobs(pairs, { reference: true })];
    ra.forEach((r, i) => expect(relError(r, rb[i])).toBeLessThan(1e-5));
    const opts = { maxNewTokens: 6, temperature: 0, groupSize: 2, seed: 4, eosTokenIds: [] };
    const [sa, sb] = [await sample(a, [ids[0]], opts), await sample(b, [ids[0]], opts)];
    expect(sa[0].map((c) => c.tokens)).toEqual(sb[0].map((c) => c.tokens));
  });

  it('reads the base as it is at each run (nothing was copied into the session)', async () => {
    const p = make('inputs');
    const before = Float32Array.from((await p.forwardLogits(ids)).data);
    const w = model.weights.get('model.layers.0.mlp.down_proj.weight')!.data;
    const saved = Float32Array.from(w);
    try {
      w.fill(0);
      const after = (await p.forwardLogits(ids)).data;
      expect(relError(after, before)).toBeGreaterThan(1e-3);
    } finally {
      w.set(saved);
    }
    expect(relError((await p.forwardLogits(ids)).data, before)).toBeLessThan(1e-7);
  });
});
