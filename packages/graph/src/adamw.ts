/**
 * AdamW (Loshchilov & Hutter) over Float32Array parameter buffers, updated in place,
 * matching torch.optim.AdamW: decoupled weight decay p -= lr*wd*p, then the
 * bias-corrected Adam step. Moments are float32 (same memory as the parameters);
 * per-element arithmetic is done in float64.
 */
export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  /** Decoupled weight decay (default 0.01, as torch). */
  weightDecay?: number;
}

export interface AdamWState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

export class AdamW {
  readonly lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private t = 0;
  private readonly m: Record<string, Float32Array> = {};
  private readonly v: Record<string, Float32Array> = {};

  constructor(
    private readonly params: Record<string, Float32Array>,
    opts: AdamWOptions,
  ) {
    this.lr = opts.lr;
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    if (!(this.lr >= 0)) throw new Error(`AdamW: lr must be >= 0, got ${this.lr}`);
    for (const b of this.betas) if (!(b >= 0 && b < 1)) throw new Error(`AdamW: betas must lie in [0, 1), got [${this.betas}]`);
    for (const [name, p] of Object.entries(params)) {
      if (!(p instanceof Float32Array)) throw new Error(`AdamW: parameter '${name}' must be a Float32Array`);
      this.m[name] = new Float32Array(p.length);
      this.v[name] = new Float32Array(p.length);
    }
  }

  /** Number of steps taken. */
  get stepCount(): number {
    return this.t;
  }

  /**
   * One update of every parameter. `grads` must hold exactly the parameter names
   * (a missing gradient is an error: silently skipping hides wiring bugs).
   */
  step(grads: Record<string, Float32Array>, lr: number = this.lr): void {
    for (const name of Object.keys(grads)) if (!(name in this.params)) throw new Error(`AdamW.step: gradient '${name}' has no parameter`);
    for (const [name, p] of Object.entries(this.params)) {
      const g = grads[name];
      if (!g) throw new Error(`AdamW.step: no gradient for parameter '${name}'`);
      if (g.length !== p.length) throw new Error(`AdamW.step: gradient '${name}' has ${g.length} values, parameter has ${p.length}`);
    }
    this.t += 1;
    const [b1, b2] = this.betas;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    const decay = 1 - lr * this.weightDecay;
    const stepSize = lr / c1;
    const sqrtC2 = Math.sqrt(c2);
    for (const [name, p] of Object.entries(this.params)) {
      const g = grads[name];
      const m = this.m[name];
      const v = this.v[name];
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        const mi = b1 * m[i] + (1 - b1) * gi;
        const vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        // torch: p -= lr/c1 * m / (sqrt(v)/sqrt(c2) + eps)
        p[i] = p[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / sqrtC2 + this.eps);
      }
    }
  }

  /** A copy of the optimiser state (moments and step count) for checkpoints. */
  state(): AdamWState {
    const copy = (r: Record<string, Float32Array>) => Object.fromEntries(Object.entries(r).map(([k, a]) => [k, a.slice()]));
    return { step: this.t, m: copy(this.m), v: copy(this.v) };
  }

  load(state: AdamWState): void {
    if (!state || !Number.isInteger(state.step) || state.step < 0) throw new Error('AdamW.load: state.step must be a non-negative integer');
    for (const name of Object.keys(this.params)) {
      for (const key of ['m', 'v'] as const) {
        const a = state[key]?.[name];
        if (!a || a.length !== this.params[name].length) {
          throw new Error(`AdamW.load: state.${key}['${name}'] is missing or has the wrong length (expected ${this.params[name].length})`);
        }
      }
    }
    this.t = state.step;
    for (const name of Object.keys(this.params)) {
      this.m[name].set(state.m[name]);
      this.v[name].set(state.v[name]);
    }
  }
}
