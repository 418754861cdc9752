/**
 * A one-block pre-norm decoder (RMSNorm, causal multi-head attention, SwiGLU MLP,
 * LM head, logSoftmax, weighted token loss) written with the builder, shared by the
 * composite gradient check and the recompute/pruning tests.
 */
import type { GraphBuilder, Tensor } from '../src/index.ts';

export const DIMS = { B: 2, T: 4, d: 8, H: 2, mlp: 12, V: 11 };
export const PARAMS: Record<string, number[]> = {
  embed: [DIMS.V, DIMS.d],
  norm1: [DIMS.d],
  wq: [DIMS.d, DIMS.d],
  wk: [DIMS.d, DIMS.d],
  wv: [DIMS.d, DIMS.d],
  wo: [DIMS.d, DIMS.d],
  norm2: [DIMS.d],
  wg: [DIMS.d, DIMS.mlp],
  wu: [DIMS.d, DIMS.mlp],
  wd: [DIMS.mlp, DIMS.d],
  normf: [DIMS.d],
  lm: [DIMS.d, DIMS.V],
};
export const TOKENS = [3, 7, 1, 9, 0, 4, 4, 10];
export const TARGETS = [7, 1, 9, 2, 4, 4, 10, 5];
export const WEIGHTS = [1, 1, 0.5, 0, 1, 2, 1, 1];

function rmsNorm(b: GraphBuilder, x: Tensor, w: Tensor): Tensor {
  const ms = b.reduceMean(b.mul(x, x), [-1], true);
  return b.mul(b.mul(x, b.rsqrt(b.add(ms, 1e-5))), w);
}

/** Returns the scalar loss; `p` maps parameter names to tensors. */
export function block(b: GraphBuilder, p: Record<string, Tensor>): Tensor {
  const { B, T, d, H, V } = DIMS;
  const dh = d / H;
  const ids = b.constant(BigInt64Array.from(TOKENS.map(BigInt)), [B, T]);
  const x = b.gather(p.embed, ids);
  const h = rmsNorm(b, x, p.norm1);
  const heads = (t: Tensor) => b.transpose(b.reshape(t, [B, T, H, dh]), [0, 2, 1, 3]);
  const q = heads(b.matmul(h, p.wq));
  const k = heads(b.matmul(h, p.wk));
  const v = heads(b.matmul(h, p.wv));
  const scores = b.mul(b.matmul(q, b.transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(dh));
  const causal: number[] = [];
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) causal.push(j <= i ? 1 : 0);
  const masked = b.where(b.constant(causal, [T, T], 'bool'), scores, -1e9);
  const att = b.matmul(b.softmax(masked, -1), v);
  const merged = b.reshape(b.transpose(att, [0, 2, 1, 3]), [B, T, d]);
  const x1 = b.add(x, b.matmul(merged, p.wo));
  const h2 = rmsNorm(b, x1, p.norm2);
  const mlp = b.matmul(b.mul(b.silu(b.matmul(h2, p.wg)), b.matmul(h2, p.wu)), p.wd);
  const x2 = b.add(x1, mlp);
  const logits = b.matmul(rmsNorm(b, x2, p.normf), p.lm);
  const logp = b.logSoftmax(logits, -1);
  const tgt = b.constant(BigInt64Array.from(TARGETS.map(BigInt)), [B, T, 1]);
  const tok = b.squeeze(b.gatherElements(logp, tgt, -1), [2]);
  const w = b.constant(WEIGHTS, [B, T]);
  void V;
  return b.div(b.neg(b.reduceSum(b.mul(tok, w))), WEIGHTS.reduce((s, v) => s + v, 0));
}
