import { describe, expect, it } from 'vitest';
import { AdamW, GradAccumulator, clipGradNorm, learningRate } from '../src/index.ts';

describe('AdamW', () => {
  it('matches a hand-computed two-step update (lr 0.1, betas .9/.999, eps 1e-8, wd 0.01)', () => {
    const params = { w: Float32Array.from([1]), frozenGrad: Float32Array.from([2]) };
    const opt = new AdamW(params, { lr: 0.1, weightDecay: 0.01 });
    opt.step({ w: Float32Array.from([0.5]), frozenGrad: Float32Array.from([0]) });
    // step 1: p = 1*(1-0.001) = 0.999; m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25
    //         p -= 0.1*0.5/(0.5+1e-8)  -> 0.899000002
    expect(params.w[0]).toBeCloseTo(0.899000002, 6);
    // zero gradient: m = v = 0, only decay: 2*0.999
    expect(params.frozenGrad[0]).toBeCloseTo(1.998, 6);
    opt.step({ w: Float32Array.from([-0.25]), frozenGrad: Float32Array.from([0]) });
    // step 2: p = 0.899000002*0.999 = 0.898101002; m = 0.045-0.025 = 0.02; v = 0.00024975+0.0000625 = 0.00031225
    //         m̂ = 0.02/0.19 = 0.1052632; v̂ = 0.00031225/0.001999 = 0.1562031, sqrt 0.3952254
    //         p -= 0.1*0.1052632/0.3952254 = 0.0266337 -> 0.8714673
    expect(params.w[0]).toBeCloseTo(0.8714673, 6);
    expect(params.frozenGrad[0]).toBeCloseTo(1.996002, 6);
    expect(opt.stepCount).toBe(2);
  });

  it('lr override, state save/load resumes identically', () => {
    const mk = () => ({ a: Float32Array.from([0.3, -0.2, 0.1]) });
    const g1 = { a: Float32Array.from([0.1, 0.2, -0.3]) };
    const g2 = { a: Float32Array.from([-0.05, 0.4, 0.3]) };
    const p1 = mk();
    const o1 = new AdamW(p1, { lr: 0.01 });
    o1.step(g1);
    const saved = o1.state();
    o1.step(g2, 0.005);
    const p2 = { a: Float32Array.from([0, 0, 0]) };
    const o2 = new AdamW(p2, { lr: 0.01 });
    // restore parameters and moments from after step 1
    const after1 = mk();
    new AdamW(after1, { lr: 0.01 }).step(g1);
    p2.a.set(after1.a);
    o2.load(saved);
    o2.step(g2, 0.005);
    expect(Array.from(p2.a)).toEqual(Array.from(p1.a));
    // the saved state is a copy, not a live view
    expect(saved.step).toBe(1);
    expect(saved.m.a[0]).toBeCloseTo(0.01, 7);
  });

  it('rejects missing, unknown and mis-sized gradients and bad state', () => {
    const opt = new AdamW({ a: new Float32Array(2) }, { lr: 0.1 });
    expect(() => opt.step({})).toThrow(/no gradient for parameter 'a'/);
    expect(() => opt.step({ a: new Float32Array(2), b: new Float32Array(1) })).toThrow(/'b' has no parameter/);
    expect(() => opt.step({ a: new Float32Array(3) })).toThrow(/has 3 values/);
    expect(() => opt.load({ step: 1, m: {}, v: {} })).toThrow(/state.m\['a'\]/);
  });
});

describe('clipGradNorm', () => {
  it('scales by maxNorm/norm and returns the pre-clip norm', () => {
    const g = { a: Float32Array.from([3, 4]), b: Float32Array.from([12]) }; // norm sqrt(9+16+144) = 13
    expect(clipGradNorm(g, 6.5)).toBeCloseTo(13, 6);
    expect(g.a[0]).toBeCloseTo(1.5, 5);
    expect(g.a[1]).toBeCloseTo(2, 5);
    expect(g.b[0]).toBeCloseTo(6, 5);
  });
  it('leaves gradients under the limit alone and reports non-finite norms unscaled', () => {
    const g = { a: Float32Array.from([0.3, 0.4]) };
    expect(clipGradNorm(g, 1)).toBeCloseTo(0.5, 6);
    expect(Array.from(g.a)).toEqual([Math.fround(0.3), Math.fround(0.4)]);
    const bad = { a: Float32Array.from([NaN, 1]) };
    expect(clipGradNorm(bad, 1)).toBeNaN();
    expect(bad.a[1]).toBe(1);
    expect(() => clipGradNorm(g, 0)).toThrow(/maxNorm/);
  });
});

describe('learningRate', () => {
  const o = { base: 1e-3, warmupSteps: 10, totalSteps: 110 };
  it('linear warmup from 0', () => {
    expect(learningRate(0, { ...o, schedule: 'cosine' })).toBe(0);
    expect(learningRate(5, { ...o, schedule: 'linear' })).toBeCloseTo(5e-4, 12);
    expect(learningRate(10, { ...o, schedule: 'constant' })).toBeCloseTo(1e-3, 12);
  });
  it('constant, linear and cosine decay', () => {
    expect(learningRate(100, { ...o, schedule: 'constant' })).toBe(1e-3);
    expect(learningRate(60, { ...o, schedule: 'linear' })).toBeCloseTo(5e-4, 12); // half way through 100 decay steps
    expect(learningRate(60, { ...o, schedule: 'cosine' })).toBeCloseTo(5e-4, 12); // 0.5*(1+cos(pi/2))
    expect(learningRate(35, { ...o, schedule: 'cosine' })).toBeCloseTo(1e-3 * 0.5 * (1 + Math.SQRT1_2), 12); // cos(pi/4)
    expect(learningRate(110, { ...o, schedule: 'linear' })).toBe(0);
    expect(learningRate(500, { ...o, schedule: 'cosine' })).toBe(0);
  });
  it('rejects bad arguments with a clear message', () => {
    expect(() => learningRate(-1, { ...o, schedule: 'linear' })).toThrow(/step/);
    expect(() => learningRate(1, { ...o, schedule: 'exp' as 'linear' })).toThrow(/schedule/);
  });
});

describe('GradAccumulator', () => {
  it('sums weighted micro-batch gradients and averages by total weight', () => {
    const acc = new GradAccumulator({ w: 2 });
    acc.add({ w: [1, 2] }, 3); // e.g. 3 tokens, per-token mean gradient
    acc.add({ w: [4, -1] }, 1);
    expect(acc.count).toBe(2);
    expect(acc.totalWeight).toBe(4);
    expect(Array.from(acc.mean().w)).toEqual([(3 + 4) / 4, (6 - 1) / 4]);
    acc.reset();
    expect(Array.from(acc.sum().w)).toEqual([0, 0]);
    expect(() => acc.add({})).toThrow(/no gradient for 'w'/);
    expect(() => acc.mean()).toThrow(/nothing accumulated/);
  });
});
