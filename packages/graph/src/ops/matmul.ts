/** Batched MatMul (ONNX semantics, rank >= 2) and its lean VJP. */
import type { GraphCore, TensorRef } from '../core.ts';
import type { Tensor } from '../types.ts';
import { isFloat } from '../types.ts';
import { broadcastShapes } from '../shape.ts';
import { reduceTo } from './reduce-to.ts';
import { reshape, transpose, transposeLast2 } from './shape-ops.ts';

export function matmul(g: GraphCore, a: Tensor, b: Tensor): TensorRef {
  const ta = g.own(a, 'matmul a');
  const tb = g.own(b, 'matmul b');
  if (ta.shape.length < 2 || tb.shape.length < 2) {
    throw new Error(`matmul: '${ta.name}' [${ta.shape}] and '${tb.name}' [${tb.shape}] must be rank >= 2 (unsqueeze vectors first)`);
  }
  if (ta.dtype !== tb.dtype || !isFloat(ta.dtype)) throw new Error(`matmul: needs equal float dtypes, got ${ta.dtype} and ${tb.dtype}`);
  const [m, k] = ta.shape.slice(-2);
  const [k2, n] = tb.shape.slice(-2);
  if (k !== k2) throw new Error(`matmul: inner dims differ: '${ta.name}' [${ta.shape}] x '${tb.name}' [${tb.shape}]`);
  const batch = broadcastShapes(ta.shape.slice(0, -2), tb.shape.slice(0, -2));
  return g.emit('MatMul', [ta, tb], { shape: [...batch, m, n], dtype: ta.dtype }, {}, ({ dy, need, x }) => {
    const xa = x(0);
    const xb = x(1);
    let ga: TensorRef | null = null;
    let gb: TensorRef | null = null;
    // dA = dY·Bᵀ. The Transpose+MatMul pair becomes one FusedMatMul(transB) in ORT's optimiser.
    if (need[0]) ga = reduceTo(g, matmul(g, dy, transposeLast2(g, xb)), xa.shape);
    if (need[1]) {
      if (xb.shape.length === 2 && xa.shape.length > 2) {
        // Shared weight [K,N] under a batched activation: fold the batch into the
        // contraction (one [K,M*]x[M*,N] GEMM) instead of a batched matmul + ReduceSum.
        const a2 = reshape(g, xa, [-1, k]);
        const d2 = reshape(g, dy, [-1, n]);
        gb = matmul(g, transpose(g, a2, [1, 0]), d2);
      } else {
        gb = reduceTo(g, matmul(g, transposeLast2(g, xa), dy), xb.shape);
      }
    }
    return [ga, gb];
  });
}
