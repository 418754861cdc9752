/**
 * Gradient accumulation across micro-batches: sums weighted gradients into float32
 * buffers allocated once, so a large batch can be processed in pieces that fit in
 * memory. Weights let the caller average by token counts rather than micro-batch count.
 */
export class GradAccumulator {
  private readonly sums: Record<string, Float32Array> = {};
  private n = 0;
  private weight = 0;

  constructor(sizes: Record<string, number>) {
    for (const [name, size] of Object.entries(sizes)) {
      if (!Number.isInteger(size) || size < 0) throw new Error(`GradAccumulator: size of '${name}' must be a non-negative integer`);
      this.sums[name] = new Float32Array(size);
    }
  }

  /** Add `scale * grads`. Every accumulated name must be present with its size. */
  add(grads: Record<string, ArrayLike<number>>, scale = 1, weight = scale): void {
    for (const [name, sum] of Object.entries(this.sums)) {
      const g = grads[name];
      if (!g) throw new Error(`GradAccumulator.add: no gradient for '${name}'`);
      if (g.length !== sum.length) throw new Error(`GradAccumulator.add: '${name}' has ${g.length} values, expected ${sum.length}`);
      for (let i = 0; i < sum.length; i++) sum[i] += scale * g[i];
    }
    this.n += 1;
    this.weight += weight;
  }

  /** Micro-batches added since the last reset. */
  get count(): number {
    return this.n;
  }
  /** Sum of the `weight` arguments since the last reset. */
  get totalWeight(): number {
    return this.weight;
  }

  /** The accumulated sums (live buffers: pass straight to clipGradNorm / AdamW.step). */
  sum(): Record<string, Float32Array> {
    return this.sums;
  }

  /** Divide the sums by `by` (default: total weight) in place and return them. */
  mean(by: number = this.weight): Record<string, Float32Array> {
    if (!(by > 0)) throw new Error(`GradAccumulator.mean: divisor must be > 0, got ${by} (nothing accumulated?)`);
    for (const s of Object.values(this.sums)) for (let i = 0; i < s.length; i++) s[i] /= by;
    return this.sums;
  }

  reset(): void {
    for (const s of Object.values(this.sums)) s.fill(0);
    this.n = 0;
    this.weight = 0;
  }
}
