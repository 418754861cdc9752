/**
 * Global L2-norm gradient clipping (torch.nn.utils.clip_grad_norm_ semantics):
 * scale every gradient by maxNorm/(norm+1e-6) when the norm exceeds maxNorm.
 * Returns the pre-clip norm. A non-finite norm is returned untouched and nothing
 * is scaled, so the trainer can stop and name the step.
 */
export function clipGradNorm(grads: Record<string, Float32Array>, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const norm = globalNorm(grads);
  if (!Number.isFinite(norm)) return norm;
  if (norm > maxNorm) {
    const s = maxNorm / (norm + 1e-6);
    for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) g[i] *= s;
  }
  return norm;
}

/** sqrt(sum of squares) over all buffers, accumulated in float64. */
export function globalNorm(grads: Record<string, Float32Array>): number {
  let ss = 0;
  for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) ss += g[i] * g[i];
  return Math.sqrt(ss);
}
