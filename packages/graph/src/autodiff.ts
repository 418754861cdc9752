/**
 * Reverse-mode autodiff over the recorded graph. Backward ops are emitted only for
 * nodes that lie on a path from a requested tensor to the loss (forward-reachable
 * from `wrt` AND backward-reachable from `loss`), and only for the inputs on such a
 * path, so frozen branches cost nothing. Fan-out gradients are summed once per tensor.
 */
import type { GraphCore, OpNode, TensorRef, VjpCtx } from './core.ts';
import type { Tensor } from './types.ts';
import { isFloat } from './types.ts';
import { sameShape } from './shape.ts';
import { zeros } from './ops/gather.ts';

export interface GradOptions {
  /**
   * Rematerialise cheap forward activations in the backward instead of keeping them
   * alive: every forward value a VJP rule reads is re-emitted from its producer,
   * recursively, stopping at MatMul outputs, graph inputs, initializers and constants
   * (those are the checkpoints that stay in memory). Elementwise results, norms,
   * softmax probabilities, reshapes and transposes are recomputed. Values are identical;
   * the model is tagged so Session disables ORT's common-subexpression elimination,
   * which would otherwise merge the copies back into the forward.
   */
  recompute?: boolean;
}

/** Ops never recomputed: their outputs are the checkpoints. */
const CHECKPOINT_OPS = new Set(['MatMul']);

/** The tensors a node's VJP differentiates with respect to. */
const gradInputs = (n: OpNode): (TensorRef | null)[] => n.gradInputs ?? n.inputs;

export function grad(g: GraphCore, loss: Tensor, wrt: readonly Tensor[], opts: GradOptions = {}): TensorRef[] {
  const L = g.own(loss, 'grad loss');
  if (!isFloat(L.dtype)) throw new Error(`grad: loss '${L.name}' must be float, got ${L.dtype}`);
  const W = wrt.map((w) => g.own(w, 'grad wrt'));
  for (const w of W) if (!isFloat(w.dtype)) throw new Error(`grad: cannot differentiate w.r.t. ${w.dtype} tensor '${w.name}'`);
  const forwardNodes = g.nodes.slice(); // snapshot: nodes emitted below are not revisited

  // 1. Tensors that depend (differentiably) on some wrt tensor.
  const fromWrt = new Set<TensorRef>(W);
  for (const n of forwardNodes) {
    if (n.vjp && gradInputs(n).some((i) => i && fromWrt.has(i))) for (const o of n.outputs) fromWrt.add(o);
  }
  // 2. Tensors the loss depends on.
  const toLoss = new Set<TensorRef>([L]);
  for (let k = forwardNodes.length - 1; k >= 0; k--) {
    const n = forwardNodes[k];
    if (n.outputs.some((o) => toLoss.has(o))) for (const i of [...n.inputs, ...gradInputs(n)]) if (i) toLoss.add(i);
  }
  const onPath = (t: TensorRef | null): t is TensorRef => !!t && fromWrt.has(t) && toLoss.has(t);

  const prevPhase = g.phase;
  g.phase = 'backward';
  try {
    const contrib = new Map<TensorRef, TensorRef[]>();
    const totals = new Map<TensorRef, TensorRef>();
    const total = (t: TensorRef): TensorRef | undefined => {
      const hit = totals.get(t);
      if (hit) return hit;
      const parts = contrib.get(t);
      if (!parts || parts.length === 0) return undefined;
      let s: TensorRef;
      if (parts.length === 1) s = parts[0];
      else if (parts.length === 2) s = g.emit('Add', parts, { shape: t.shape, dtype: t.dtype });
      else s = g.emit('Sum', parts, { shape: t.shape, dtype: t.dtype });
      totals.set(t, s);
      return s;
    };

    const remat = makeRemat(g, opts.recompute === true);
    if (onPath(L)) contrib.set(L, [g.literal(new Array(L.shape.reduce((a, b) => a * b, 1)).fill(1), L.shape, L.dtype)]);

    for (let k = forwardNodes.length - 1; k >= 0; k--) {
      const node = forwardNodes[k];
      if (!node.vjp || node.outputs.length !== 1) continue;
      const out = node.outputs[0];
      if (!onPath(out)) continue;
      const dy = total(out);
      if (!dy) continue;
      const targets = gradInputs(node);
      const need = targets.map((i) => onPath(i));
      if (!need.some(Boolean)) continue;
      const ctx: VjpCtx = {
        g,
        node,
        dy,
        need,
        x: (i) => remat(targets[i] as TensorRef),
        y: () => remat(out),
        value: remat,
      };
      const grads = node.vjp(ctx);
      targets.forEach((inp, i) => {
        const gi = grads[i];
        if (!need[i] || !gi || !inp) return;
        if (!sameShape(gi.shape, inp.shape) || gi.dtype !== inp.dtype) {
          throw new Error(`internal: ${node.opType} VJP gave [${gi.shape}] ${gi.dtype} for input '${inp.name}' [${inp.shape}] ${inp.dtype}`);
        }
        const list = contrib.get(inp);
        if (list) list.push(gi);
        else contrib.set(inp, [gi]);
      });
    }
    // A wrt tensor the loss does not depend on has a zero gradient.
    return W.map((w) => total(w) ?? zeros(g, w.shape, w.dtype));
  } finally {
    g.phase = prevPhase;
  }
}

/** Returns the identity when recomputation is off; otherwise a memoised re-emitter. */
function makeRemat(g: GraphCore, on: boolean): (t: TensorRef) => TensorRef {
  if (!on) return (t) => t;
  const memo = new Map<TensorRef, TensorRef>();
  const remat = (t: TensorRef): TensorRef => {
    const p: OpNode | null = t.producer;
    if (!p || p.phase !== 'forward' || CHECKPOINT_OPS.has(p.opType) || p.outputs.length !== 1) return t;
    const hit = memo.get(t);
    if (hit) return hit;
    const saved = g.phase;
    g.phase = 'recompute';
    const inputs = p.inputs.map((i) => (i ? remat(i) : null));
    const copy = g.emit(p.opType, inputs, { shape: t.shape, dtype: t.dtype }, p.attrs);
    g.phase = saved;
    memo.set(t, copy);
    return copy;
  };
  return remat;
}
