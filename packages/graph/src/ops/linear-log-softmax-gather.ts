/**
 * Per-token log-probabilities straight from hidden states: log_softmax(x·w)[idx] for x [..., d], w [d, V] (the
 * LM head as [in, out]) and idx [..., 1] int64, with one fused gradient for x and w.
 *
 * Why fused: the chained rules form dlogits = s ⊙ (onehot − softmax) over the whole [positions, V] tensor, a
 * full pass (a broadcast Mul) at the size of the vocabulary, before its two GEMMs. The per-position factor
 * s = dy commutes with both products, so it is applied on the d-wide side instead:
 *   D  = softmax − onehot(idx)            (Exp of the saved log-softmax, ScatterElements add −1)
 *   dx = −s ⊙ (D · wᵀ)                    dw = (−s ⊙ x)ᵀ · D
 * The forward is MatMul, LogSoftmax, GatherElements; the logits are not kept beyond the LogSoftmax.
 *
 * With `entropy`, the same pass also gives each position's entropy H = -Σ_v p_v·log p_v of softmax(x·w):
 * p = Exp(log-softmax) is the softmax the backward needs anyway (its D reads p instead of a second Exp), and
 * Σ_v p_v·log p_v is a batched [1, V]·[V, 1] MatMul per position, so no [positions, V] product is formed.
 * The entropy carries no gradient (it is a metric and a mask, never part of a loss).
 */
import type { GraphCore, TensorRef } from '../core.ts';
import type { Tensor } from '../types.ts';
import { exp, mul, neg } from './elementwise.ts';
import { full, scatterElementsAdd } from './gather.ts';
import { matmul } from './matmul.ts';
import { logSoftmax } from './reduce.ts';
import { reshape, transpose } from './shape-ops.ts';

export function linearLogSoftmaxGather(g: GraphCore, x: Tensor, w: Tensor, indices: Tensor): TensorRef {
  return linearLogSoftmaxGatherWith(g, x, w, indices, false).logprobs;
}

/** linearLogSoftmaxGather plus the entropy of each position's softmax, [..., 1] like the log-probs. */
export function linearLogSoftmaxGatherEntropy(g: GraphCore, x: Tensor, w: Tensor, indices: Tensor): { logprobs: TensorRef; entropy: TensorRef } {
  const { logprobs, entropy } = linearLogSoftmaxGatherWith(g, x, w, indices, true);
  return { logprobs, entropy: entropy as TensorRef };
}

function linearLogSoftmaxGatherWith(g: GraphCore, x: Tensor, w: Tensor, indices: Tensor, withEntropy: boolean): { logprobs: TensorRef; entropy: TensorRef | null } {
  const tx = g.own(x, 'linearLogSoftmaxGather x');
  const tw = g.own(w, 'linearLogSoftmaxGather w');
  const idx = g.own(indices, 'linearLogSoftmaxGather indices');
  const r = tx.shape.length;
  const [d, V] = tw.shape;
  if (tw.shape.length !== 2 || tx.shape[r - 1] !== d) {
    throw new Error(`linearLogSoftmaxGather: w '${tw.name}' [${tw.shape}] must be [${tx.shape[r - 1]}, vocab] for x '${tx.name}' [${tx.shape}]`);
  }
  if (idx.dtype !== 'int64') throw new Error(`linearLogSoftmaxGather: indices '${idx.name}' must be int64, got ${idx.dtype}`);
  if (idx.shape.length !== r || idx.shape[r - 1] !== 1 || idx.shape.some((n, i) => i < r - 1 && n !== tx.shape[i])) {
    throw new Error(`linearLogSoftmaxGather: indices '${idx.name}' [${idx.shape}] must be [${[...tx.shape.slice(0, -1), 1]}] (one target per position)`);
  }
  const lsm = logSoftmax(g, matmul(g, tx, tw), -1);
  const probs = withEntropy ? exp(g, lsm) : null;
  let entropy: TensorRef | null = null;
  if (probs) {
    const positions = idx.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const dot = matmul(g, reshape(g, probs, [positions, 1, V]), reshape(g, lsm, [positions, V, 1])); // [positions, 1, 1]
    entropy = neg(g, reshape(g, dot, [...idx.shape]));
  }
  const logprobs = g.emit('GatherElements', [lsm, idx], { shape: idx.shape, dtype: tx.dtype }, { axis: { i: r - 1 } }, ({ dy, need, x: fwd, value }) => {
    const x2 = reshape(g, fwd(0), [-1, d]);
    const w2 = fwd(1);
    const negS = reshape(g, neg(g, dy), [-1, 1]); // [positions, 1]
    const softmax = probs ? value(probs) : exp(g, value(lsm));
    const D = reshape(g, scatterElementsAdd(g, softmax, fwd(2), full(g, idx.shape, -1, tx.dtype), r - 1), [-1, V]);
    const dx = need[0] ? reshape(g, mul(g, matmul(g, D, transpose(g, w2, [1, 0])), negS), [...tx.shape]) : null;
    const dw = need[1] ? matmul(g, transpose(g, mul(g, x2, negS), [1, 0]), D) : null;
    return [dx, dw, null];
  }, [tx, tw, idx]);
  return { logprobs, entropy };
}
