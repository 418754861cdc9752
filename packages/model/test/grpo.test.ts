// The GRPO objective: at the first iteration (old log-probs = current) the ratio is exactly 1 and the gradient
// is the plain policy gradient -A * grad(logp) aggregated the same way; aggregation weights; clipping.
import { GraphBuilder, Session, type Feed } from '@ragrpo/graph';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBatch, packedFeeds, type SequencePair } from '../src/graphs/batch-layout.ts';
import { groupAdvantages } from '../src/training/advantages.ts';
import { aggregationCoefficients, LOSS_AGGREGATIONS, type LossAggregation } from '../src/training/grpo-loss.ts';
import { buildDecoderGraph } from '../src/graphs/llama-graph.ts';
import type { LoadedModel } from '../src/loading/load-model.ts';
import { createLora } from '../src/lora/lora.ts';
import { Policy } from '../src/policy/policy.ts';
import { Prng } from '../src/prng.ts';
import { TARGETS } from '../src/graphs/token-logprobs.ts';
import { buildTrainGraph, gradName } from '../src/training/train-graph.ts';
import { Trainer, type GrpoExample } from '../src/training/trainer.ts';
import { trlMetrics } from '../src/training/trl-metrics.ts';
import { relError, tinyModel } from './tiny-models.ts';

let model: LoadedModel;
let policy: Policy;
const sessions: Session[] = [];
const Tp = 16;
const Tc = 16;
const pairs: SequencePair[] = [
  { promptIds: [3, 44, 91, 7], completionIds: [12, 300, 45, 9, 18] },
  { promptIds: [8, 2], completionIds: [77] },
  { promptIds: [5, 6, 7, 8, 9, 10], completionIds: [101, 102, 103, 104, 105, 106, 107, 108] },
  { promptIds: [250], completionIds: [33, 34, 35] },
];
const advantages = [1.2, -0.7, 0.4, -0.9];

beforeAll(async () => {
  model = await tinyModel('qwen2', { initStd: 0.1 });
  const lora = createLora(model.config, { r: 4, alpha: 8, targetModules: 'all-linear' }, 9);
  // non-zero B so that the A gradients are not trivially zero
  const rng = new Prng(10);
  for (const [k, w] of lora.weights) if (k.endsWith('lora_B.weight')) for (let i = 0; i < w.data.length; i++) w.data[i] = rng.uniform(-0.1, 0.1);
  policy = new Policy(model, { lora });
});
afterAll(async () => {
  for (const s of sessions) await s.release();
  await policy.release();
});

function weightsFor(agg: LossAggregation): Float32Array {
  const tokens = pairs.map((p) => p.completionIds.length);
  const coef = aggregationCoefficients(tokens, [0, 0, 0, 0], agg, 10);
  const w = new Float32Array(pairs.length * Tc);
  pairs.forEach((p, b) => {
    for (let t = 0; t < p.completionIds.length; t++) w[b * Tc + t] = coef[b];
  });
  return w;
}

function baseFeeds(): Record<string, Feed> {
  const packed = packBatch(pairs, { promptLen: Tp, completionLen: Tc, padId: 0, slidingWindow: policy.config.slidingWindow });
  return { ...policy.frozenFeeds(), ...policy.paramFeeds(), ...packedFeeds(packed), advantages: { data: Float32Array.from(advantages), dims: [pairs.length, 1] } };
}

/** The plain policy-gradient surrogate -sum(w * A * logp), built independently of grpo-loss.ts. */
async function policyGradient(weights: Float32Array): Promise<Record<string, Feed>> {
  const g = new GraphBuilder({ name: 'pg' });
  const params = policy.paramSource(g);
  const dec = buildDecoderGraph(g, policy.config, params, { batch: pairs.length, seqLen: Tp + Tc, lora: policy.loraInGraph(false, false), logitsRange: [Tp - 1, Tp + Tc - 1] });
  // plain LogSoftmax + GatherElements with their own rules, not the fused LM-head log-prob of the train graph
  const targets = g.input(TARGETS, [pairs.length, Tc], 'int64');
  const logprobs = g.squeeze(g.gatherElements(g.logSoftmax(dec.logits, 2), g.unsqueeze(targets, [2]), 2), [2]);
  const adv = g.input('advantages', [pairs.length, 1], 'float32');
  const w = g.input('loss_weights', [pairs.length, Tc], 'float32');
  const loss = g.neg(g.reduceSum(g.mul(g.mul(logprobs, adv), w), [0, 1], false));
  const names = [...policy.params.keys()];
  const grads = g.grad(loss, names.map((n) => params.tensor(n)));
  g.output('loss', loss);
  names.forEach((n, i) => g.output(gradName(n), grads[i]));
  const s = await Session.create(g.toOnnx());
  sessions.push(s);
  return s.run({ ...baseFeeds(), loss_weights: { data: weights, dims: [pairs.length, Tc] } });
}

/** A GRPO train-graph session over `pairs` (closed in afterAll). */
async function grpoSession(o: { epsilonLow: number; epsilonHigh: number; beta: number }): Promise<Session> {
  const s = await Session.create(
    buildTrainGraph(policy, {
      batch: pairs.length,
      promptLen: Tp,
      completionLen: Tc,
      temperature: 1,
      objective: { kind: 'grpo', detachOld: false, ...o },
      recompute: false,
      dropout: false,
    }),
  );
  sessions.push(s);
  return s;
}

describe('GRPO loss at the first iteration', () => {
  for (const agg of LOSS_AGGREGATIONS) {
    it(`${agg}: ratio is exactly 1 and the gradient equals the policy gradient`, async () => {
      const weights = weightsFor(agg);
      const pg = await policyGradient(weights);
      const s = await grpoSession({ epsilonLow: 0.2, epsilonHigh: 0.28, beta: 0 });
      const feeds = { ...baseFeeds(), loss_weights: { data: weights, dims: [pairs.length, Tc] } };
      // old log-probs = the current policy's, taken from a first run of the same session
      const first = await s.run({ ...feeds, old_logprobs: { data: new Float32Array(pairs.length * Tc), dims: [pairs.length, Tc] } });
      const out = await s.run({ ...feeds, old_logprobs: first.logprobs });
      const ratio = out.ratio.data as Float32Array;
      pairs.forEach((p, b) => {
        for (let t = 0; t < p.completionIds.length; t++) expect(ratio[b * Tc + t]).toBe(1);
      });
      // loss value: -sum(w * A) at ratio 1, and the PG surrogate's value is -sum(w * A * logp)
      let expectedLoss = 0;
      pairs.forEach((p, b) => {
        for (let t = 0; t < p.completionIds.length; t++) expectedLoss -= weights[b * Tc + t] * advantages[b];
      });
      expect((out.loss.data as Float32Array)[0]).toBeCloseTo(expectedLoss, 5);
      let compared = 0;
      for (const name of policy.params.keys()) {
        const want = pg[gradName(name)].data as Float32Array;
        const got = out[gradName(name)].data as Float32Array;
        expect(relError(got, want)).toBeLessThan(1e-5);
        compared++;
      }
      expect(compared).toBe(policy.params.size);
      // the gradients are not all zero (the comparison is meaningful)
      expect(Math.max(...Array.from(pg[gradName('model.layers.0.self_attn.q_proj.lora_A.weight')].data as Float32Array, Math.abs))).toBeGreaterThan(1e-6);
    });
  }
});

describe('GRPO loss padding', () => {
  it('ignores whatever old/ref values padded positions hold (no inf * 0 = NaN)', async () => {
    const weights = weightsFor('dapo');
    const s = await grpoSession({ epsilonLow: 0.2, epsilonHigh: 0.2, beta: 0.1 });
    const feeds = { ...baseFeeds(), loss_weights: { data: weights, dims: [pairs.length, Tc] } };
    const zeros = { data: new Float32Array(pairs.length * Tc), dims: [pairs.length, Tc] };
    const clean = await s.run({ ...feeds, old_logprobs: zeros, ref_logprobs: zeros });
    // the same real-token values, but extreme numbers in the padding
    const old = Float32Array.from(clean.logprobs.data as Float32Array);
    const ref = Float32Array.from(old);
    pairs.forEach((p, b) => {
      for (let t = p.completionIds.length; t < Tc; t++) {
        old[b * Tc + t] = -1000;
        ref[b * Tc + t] = 1000;
      }
    });
    const noisy = await s.run({ ...feeds, old_logprobs: { data: old, dims: [pairs.length, Tc] }, ref_logprobs: { data: ref, dims: [pairs.length, Tc] } });
    const loss = (noisy.loss.data as Float32Array)[0];
    expect(Number.isFinite(loss)).toBe(true);
    // real tokens: ratio 1 and KL 0 (old = ref = current), so the loss is -sum(w * A)
    let expected = 0;
    pairs.forEach((p, b) => {
      for (let t = 0; t < p.completionIds.length; t++) expected -= weights[b * Tc + t] * advantages[b];
    });
    expect(loss).toBeCloseTo(expected, 5);
  });
});

describe('loss aggregation weights', () => {
  // rows with 3, 1, 0 (masked) and 4 tokens; rows 0-1 in micro-batch 0, rows 2-3 in micro-batch 1; max length 5
  const tokens = [3, 1, 0, 4];
  const mbs = [0, 0, 1, 1];
  it('grpo: mean per sequence, then mean over sequences', () => {
    expect(aggregationCoefficients(tokens, mbs, 'grpo', 5)).toEqual([1 / 12, 1 / 4, 1 / 4, 1 / 16]);
  });
  it('bnpo: token mean per micro-batch, averaged over micro-batches', () => {
    expect(aggregationCoefficients(tokens, mbs, 'bnpo', 5)).toEqual([1 / 8, 1 / 8, 1 / 8, 1 / 8]);
    expect(aggregationCoefficients([3, 1, 0, 2], mbs, 'bnpo', 5)).toEqual([1 / 8, 1 / 8, 1 / 4, 1 / 4]);
  });
  it('dr_grpo: sum / (batch * max completion length)', () => {
    expect(aggregationCoefficients(tokens, mbs, 'dr_grpo', 5)).toEqual([1 / 20, 1 / 20, 1 / 20, 1 / 20]);
  });
  it('dapo: token mean over the whole batch', () => {
    expect(aggregationCoefficients(tokens, mbs, 'dapo', 5)).toEqual([1 / 8, 1 / 8, 1 / 8, 1 / 8]);
  });
});

describe('group advantages', () => {
  it('normalise each group by its mean and unbiased standard deviation', () => {
    // group [1, 0, 0, 1]: mean 0.5, unbiased std sqrt(1/3) = 0.57735; group [2, 2, 2, 2]: all zero
    const a = groupAdvantages([1, 0, 0, 1, 2, 2, 2, 2], 4);
    const s = Math.sqrt(1 / 3) + 1e-4;
    expect(a.slice(0, 4)).toEqual([0.5 / s, -0.5 / s, -0.5 / s, 0.5 / s].map((x) => expect.closeTo(x, 12)));
    expect(a.slice(4)).toEqual([0, 0, 0, 0]);
    expect(groupAdvantages([3, 1, 10, 20], 2, 'none')).toEqual([1, -1, -5, 5]);
    expect(() => groupAdvantages([1, 2, 3], 2)).toThrow(/3 rewards do not split into groups of 2/);
  });
});

describe('GRPO trainer step', () => {
  const examples = (): GrpoExample[] => pairs.map((p, i) => ({ ...p, advantage: advantages[i] }));

  it('clips: a ratio far above 1 + epsilon with positive advantages gives no gradient', async () => {
    const p2 = new Policy(model, { lora: createLora(model.config, { r: 4, alpha: 8 }, 1) });
    const trainer = new Trainer(p2, { lr: 1e-3, grpo: { epsilonLow: 0.2, epsilonHigh: 0.2, aggregation: 'grpo' } });
    // old log-probs 1 nat below the current: ratio e = 2.7 > 1.2, advantages made positive
    const cur = await p2.logprobs(pairs);
    const m = await trainer.grpoStep(pairs.map((p, i) => ({ ...p, advantage: Math.abs(advantages[i]), oldLogprobs: cur[i].map((x) => x - 1) })));
    expect(m.clipFraction).toBe(1);
    expect(m.gradNorm).toBe(0);
    expect(m.meanRatio).toBeCloseTo(Math.E, 4);
    await p2.release();
  });

  it('k3 KL to the reference is 0 while the adapter is still zero, and positive after training moves the policy', async () => {
    const p2 = new Policy(model, { lora: createLora(model.config, { r: 4, alpha: 8, targetModules: 'all-linear' }, 2) });
    const trainer = new Trainer(p2, { lr: 2e-2, grpo: { beta: 0.04, aggregation: 'dapo' } });
    const m1 = await trainer.grpoStep(examples());
    expect(m1.kl).toBeCloseTo(0, 6);
    expect(m1.meanRatio).toBe(1);
    const m2 = await trainer.grpoStep(examples());
    expect(m2.kl!).toBeGreaterThan(1e-6);
    await p2.release();
  });

  it('masking truncated completions removes them from the loss', async () => {
    const p2 = new Policy(model, { lora: createLora(model.config, { r: 4, alpha: 8 }, 3) });
    const trainer = new Trainer(p2, { lr: 1e-3, grpo: { maskTruncatedCompletions: true } });
    const ex = examples().map((e) => ({ ...e, truncated: true }));
    ex[0].truncated = false;
    const m = await trainer.grpoStep(ex);
    expect(m.tokens).toBe(pairs[0].completionIds.length);
    await p2.release();
  });
});

describe('GRPO iterations (TRL num_iterations)', () => {
  const examples = (): GrpoExample[] => pairs.map((p, i) => ({ ...p, advantage: advantages[i] }));

  for (const level of ['token', 'sequence'] as const) {
    it(`${level} level, first iteration (no old log-probs): ratio exactly 1, no clipping, the policy gradient`, async () => {
      for (const lossType of LOSS_AGGREGATIONS) {
        const trainer = new Trainer(policy, { lr: 1e-3, grpo: { lossType, importanceSamplingLevel: level, epsilonHigh: 0.28, delta: 1.5, maxCompletionLength: 10 } });
        const { loss, grads, metrics } = await trainer.grpoGradients(examples());
        expect(metrics.meanRatio).toBe(1);
        expect([metrics.clipRatioLowMean, metrics.clipRatioHighMean, metrics.clipRatioRegionMean, metrics.clipFraction]).toEqual([0, 0, 0, 0]);
        expect(metrics.kl).toBeUndefined();
        expect(metrics.entropy!).toBeGreaterThan(0);
        // the trainer's weights for this loss type, fed to the independent policy-gradient surrogate
        const pg = await policyGradient(weightsFor(lossType));
        expect(loss).toBeCloseTo(expectedFirstIterationLoss(weightsFor(lossType)), 5);
        for (const name of policy.params.keys()) expect(relError(grads[name], pg[gradName(name)].data as Float32Array)).toBeLessThan(1e-5);
      }
    });
  }

  it('second iteration (old log-probs from one step earlier): ratios move away from 1 and clipping engages', async () => {
    const p2 = new Policy(model, { lora: createLora(model.config, { r: 4, alpha: 8, targetModules: 'all-linear' }, 4) });
    const trainer = new Trainer(p2, { lr: 5e-2, maxGradNorm: 0, grpo: { lossType: 'dapo', epsilonHigh: 0.28 } });
    const old = await p2.logprobs(pairs);
    const first = await trainer.grpoStep(examples().map((e, i) => ({ ...e, oldLogprobs: old[i] })));
    expect(first.meanRatio).toBeCloseTo(1, 5);
    expect(first.clipRatioRegionMean).toBe(0);
    const second = await trainer.grpoGradients(examples().map((e, i) => ({ ...e, oldLogprobs: old[i] })));
    expect(Math.abs(second.metrics.meanRatio! - 1)).toBeGreaterThan(0.05);
    expect(second.metrics.clipRatioRegionMean!).toBeGreaterThan(0);
    expect(second.metrics.clipRatioRegionMean).toBeCloseTo(second.metrics.clipRatioLowMean! + second.metrics.clipRatioHighMean!, 12);
    expect(second.metrics.clipRatioLowMin).toBe(second.metrics.clipRatioLowMean);
    expect(second.metrics.clipRatioHighMax).toBe(second.metrics.clipRatioHighMean);
    await p2.release();
  });

  it('refuses conflicting or meaningless GRPO options, naming them', () => {
    expect(() => new Trainer(policy, { lr: 1e-3, grpo: { lossType: 'bnpo', aggregation: 'dapo' } })).toThrow(/lossType "bnpo" and grpo.aggregation "dapo" disagree/);
    expect(() => new Trainer(policy, { lr: 1e-3, grpo: { lossType: 'ppo' as never } })).toThrow(/grpo.lossType "ppo" is not supported; choose grpo, bnpo, dr_grpo, dapo, cispo, sapo/);
    expect(() => new Trainer(policy, { lr: 1e-3, grpo: { topEntropyQuantile: 1.5 } })).toThrow(/topEntropyQuantile must be in \[0, 1\]/);
    expect(() => new Trainer(policy, { lr: 1e-3, grpo: { delta: -1 } })).toThrow(/grpo.delta must be a positive number/);
    expect(() => new Trainer(policy, { lr: 1e-3, grpo: { importanceSamplingLevel: 'group' as never } })).toThrow(/importanceSamplingLevel must be 'token' or 'sequence'/);
  });

  it("reports TRL's metric names", async () => {
    const trainer = new Trainer(policy, { lr: 1e-3, grpo: { beta: 0.04 } });
    const { metrics } = await trainer.grpoGradients(examples());
    expect(Object.keys(trlMetrics(metrics)).sort()).toEqual(
      ['clip_ratio/high_max', 'clip_ratio/high_mean', 'clip_ratio/low_mean', 'clip_ratio/low_min', 'clip_ratio/region_mean', 'entropy', 'grad_norm', 'kl', 'learning_rate', 'loss', 'num_tokens'].sort(),
    );
    const tokens = pairs.reduce((a, p) => a + p.promptIds.length + p.completionIds.length, 0);
    expect(metrics.numTokens).toBe(tokens);
  });
});

/** At ratio 1 the token loss is -A (beta 0): the loss is -sum(w * A). */
function expectedFirstIterationLoss(weights: Float32Array): number {
  let l = 0;
  pairs.forEach((p, b) => {
    for (let t = 0; t < p.completionIds.length; t++) l -= weights[b * Tc + t] * advantages[b];
  });
  return l;
}

describe('GRPO with recomputation', () => {
  it('recomputing activations (and the entropy pass softmax) in the backward gives the same gradients', async () => {
    const batch: GrpoExample[] = pairs.map((p, i) => ({ ...p, advantage: advantages[i] }));
    const run = (recompute: boolean) => new Trainer(policy, { lr: 1e-3, recompute, grpo: { beta: 0.04, topEntropyQuantile: 0.5 } }).grpoGradients(batch);
    const plain = await run(false);
    const remat = await run(true);
    expect(remat.loss).toBeCloseTo(plain.loss, 6);
    expect(remat.metrics.entropy).toBeCloseTo(plain.metrics.entropy!, 6);
    for (const name of policy.params.keys()) expect(relError(remat.grads[name], plain.grads[name])).toBeLessThan(1e-6);
  });
});
