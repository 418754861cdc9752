/**
 * GraphBuilder: the public face of the graph core. Records forward ops as plain ONNX
 * inference ops (each with a VJP rule), differentiates with grad(), and serialises
 * with toOnnx(). See docs/engine-api.md for the contract this class implements.
 */
import { GraphCore, TensorRef, checkShape, toTyped } from './core.ts';
import type { CoreOptions, Phase } from './core.ts';
import type { DType, Tensor, TensorData } from './types.ts';
import { numel } from './types.ts';
import { grad as gradImpl } from './autodiff.ts';
import type { GradOptions } from './autodiff.ts';
import { writeModel } from './onnx-writer.ts';
import type { GraphDef, NodeDef, OnnxModelBytes, WriteOptions } from './onnx-writer.ts';
import * as E from './ops/elementwise.ts';
import * as S from './ops/shape-ops.ts';
import { linearLogSoftmaxGather, linearLogSoftmaxGatherEntropy } from './ops/linear-log-softmax-gather.ts';
import * as G from './ops/gather.ts';
import * as R from './ops/reduce.ts';
import { matmul } from './ops/matmul.ts';

type X = Tensor | number;

export interface NodeSummary {
  opType: string;
  inputs: string[];
  outputs: string[];
  phase: Phase;
}

export class GraphBuilder {
  private readonly g: GraphCore;

  constructor(opts: CoreOptions = {}) {
    this.g = new GraphCore(opts);
  }

  get floatType(): 'float32' | 'float64' {
    return this.g.floatType;
  }
  get opset(): number {
    return this.g.opset;
  }

  // ---- leaves -------------------------------------------------------------
  /** A value fed at every run. dtype defaults to the builder's float type. */
  input(name: string, shape: number[], dtype: DType = this.g.floatType): Tensor {
    return this.g.addInput(name, shape, dtype);
  }

  /**
   * A frozen weight baked into the model. Float data is stored in the builder's float
   * type; when it already matches, the caller's array is referenced, not copied
   * (serialisation copies it once, or not at all with external data).
   */
  initializer(name: string, data: Float32Array | Float64Array | BigInt64Array | Uint8Array, shape: number[]): Tensor {
    checkShape(shape, `initializer ${name}`);
    let dtype: DType;
    let stored: TensorData;
    if (data instanceof BigInt64Array) [dtype, stored] = ['int64', data];
    else if (data instanceof Uint8Array) [dtype, stored] = ['bool', data];
    else if (data instanceof Float32Array || data instanceof Float64Array) [dtype, stored] = [this.g.floatType, toTyped(data, this.g.floatType)];
    else throw new Error(`initializer ${name}: data must be Float32Array, Float64Array, BigInt64Array or Uint8Array`);
    return this.g.addLiteral(name, stored, shape, dtype, 'initializer');
  }

  /** A literal. number -> scalar (or filled `shape`); arrays default to shape [length]. */
  constant(value: number | number[] | Float32Array | Float64Array | BigInt64Array, shape?: number[], dtype?: DType): Tensor {
    const dt: DType = dtype ?? (value instanceof BigInt64Array ? 'int64' : this.g.floatType);
    if (typeof value === 'number') {
      const s = shape ?? [];
      return this.g.literal(new Array(numel(s)).fill(value), s, dt);
    }
    const s = shape ?? [value.length];
    if (numel(s) !== value.length) throw new Error(`constant: ${value.length} values do not fill shape [${s.join(',')}]`);
    return this.g.literal(value as ArrayLike<number>, s, dt);
  }

  // ---- elementwise (numpy broadcasting; numbers become scalars of the other operand's dtype)
  add(a: X, b: X): Tensor { return E.add(this.g, a, b); }
  sub(a: X, b: X): Tensor { return E.sub(this.g, a, b); }
  mul(a: X, b: X): Tensor { return E.mul(this.g, a, b); }
  div(a: X, b: X): Tensor { return E.div(this.g, a, b); }
  neg(a: Tensor): Tensor { return E.neg(this.g, a); }
  exp(a: Tensor): Tensor { return E.exp(this.g, a); }
  log(a: Tensor): Tensor { return E.log(this.g, a); }
  sqrt(a: Tensor): Tensor { return E.sqrt(this.g, a); }
  rsqrt(a: Tensor): Tensor { return E.rsqrt(this.g, a); }
  reciprocal(a: Tensor): Tensor { return E.reciprocal(this.g, a); }
  pow(a: Tensor, p: number): Tensor { return E.pow(this.g, a, p); }
  tanh(a: Tensor): Tensor { return E.tanh(this.g, a); }
  sigmoid(a: Tensor): Tensor { return E.sigmoid(this.g, a); }
  silu(a: Tensor): Tensor { return E.silu(this.g, a); }
  relu(a: Tensor): Tensor { return E.relu(this.g, a); }
  abs(a: Tensor): Tensor { return E.abs(this.g, a); }
  sin(a: Tensor): Tensor { return E.sin(this.g, a); }
  cos(a: Tensor): Tensor { return E.cos(this.g, a); }
  sign(a: Tensor): Tensor { return E.sign(this.g, a); }
  maximum(a: X, b: X): Tensor { return E.maximum(this.g, a, b); }
  minimum(a: X, b: X): Tensor { return E.minimum(this.g, a, b); }
  clip(a: Tensor, lo: number, hi: number): Tensor { return E.clip(this.g, a, lo, hi); }
  where(cond: Tensor, a: X, b: X): Tensor { return E.where(this.g, cond, a, b); }
  cast(a: Tensor, dtype: DType): Tensor { return S.cast(this.g, a, dtype); }
  /** Forward value unchanged, gradient blocked (old-policy/reference terms, stable-softmax shifts). */
  stopGradient(a: Tensor): Tensor { return E.stopGradient(this.g, a); }

  // ---- structure
  matmul(a: Tensor, b: Tensor): Tensor { return matmul(this.g, a, b); }
  reshape(a: Tensor, shape: number[]): Tensor { return S.reshape(this.g, a, shape); }
  transpose(a: Tensor, perm: number[]): Tensor { return S.transpose(this.g, a, perm); }
  unsqueeze(a: Tensor, axes: number[]): Tensor { return S.unsqueeze(this.g, a, axes); }
  squeeze(a: Tensor, axes: number[]): Tensor { return S.squeeze(this.g, a, axes); }
  expand(a: Tensor, shape: number[]): Tensor { return S.expand(this.g, a, shape); }
  concat(xs: Tensor[], axis: number): Tensor { return S.concat(this.g, xs, axis); }
  slice(a: Tensor, starts: number[], ends: number[], axes?: number[], steps?: number[]): Tensor {
    return S.slice(this.g, a, starts, ends, axes, steps);
  }
  gather(table: Tensor, indices: Tensor | number[], axis = 0): Tensor { return G.gather(this.g, table, indices, axis); }
  gatherElements(a: Tensor, indices: Tensor, axis: number): Tensor { return G.gatherElements(this.g, a, indices, axis); }
  zeros(shape: number[], dtype: DType = this.g.floatType): Tensor { return G.zeros(this.g, shape, dtype); }

  // ---- reductions / normalisation (axes omitted or [] = all axes; keepdims defaults to false)
  reduceSum(a: Tensor, axes?: number[], keepdims = false): Tensor { return R.reduceSum(this.g, a, axes, keepdims); }
  reduceMean(a: Tensor, axes?: number[], keepdims = false): Tensor { return R.reduceMean(this.g, a, axes, keepdims); }
  reduceMax(a: Tensor, axes?: number[], keepdims = false): Tensor { return R.reduceMax(this.g, a, axes, keepdims); }
  softmax(a: Tensor, axis = -1): Tensor { return R.softmax(this.g, a, axis); }
  /** x / sqrt(mean(x², last axis) + eps) * weight, with a fused gradient for x and weight. */
  rmsNorm(a: Tensor, weight: Tensor, eps: number): Tensor { return R.rmsNorm(this.g, a, weight, eps); }
  logSoftmax(a: Tensor, axis = -1): Tensor { return R.logSoftmax(this.g, a, axis); }
  /** gatherElements(logSoftmax(a, axis), indices, axis) with a fused, cheaper gradient (per-token log-probs). */
  logSoftmaxGather(a: Tensor, indices: Tensor, axis = -1): Tensor { return R.logSoftmaxGather(this.g, a, indices, axis); }
  /**
   * logSoftmaxGather(x·w, indices) over the last axis for x [..., d], w [d, V], indices [..., 1]: an LM head's
   * per-token log-probs with a fused gradient that never forms the [..., V] logits gradient's scaled copy.
   */
  linearLogSoftmaxGather(x: Tensor, w: Tensor, indices: Tensor): Tensor { return linearLogSoftmaxGather(this.g, x, w, indices); }
  /**
   * linearLogSoftmaxGather plus each position's entropy -Σ p·log p of softmax(x·w) ([..., 1], no gradient), from
   * the same log-softmax: the backward reuses its Exp, and the sum over the vocabulary is a batched dot product.
   */
  linearLogSoftmaxGatherEntropy(x: Tensor, w: Tensor, indices: Tensor): { logprobs: Tensor; entropy: Tensor } {
    return linearLogSoftmaxGatherEntropy(this.g, x, w, indices);
  }

  // ---- comparisons / misc (no gradient)
  equal(a: X, b: X): Tensor { return E.compare(this.g, 'Equal', a, b); }
  less(a: X, b: X): Tensor { return E.compare(this.g, 'Less', a, b); }
  greater(a: X, b: X): Tensor { return E.compare(this.g, 'Greater', a, b); }
  lessOrEqual(a: X, b: X): Tensor { return E.compare(this.g, 'LessOrEqual', a, b); }
  greaterOrEqual(a: X, b: X): Tensor { return E.compare(this.g, 'GreaterOrEqual', a, b); }
  and(a: Tensor, b: Tensor): Tensor { return E.logical(this.g, 'And', a, b); }
  or(a: Tensor, b: Tensor): Tensor { return E.logical(this.g, 'Or', a, b); }
  not(a: Tensor): Tensor { return E.not(this.g, a); }
  argMax(a: Tensor, axis: number, keepdims = false): Tensor { return R.argMax(this.g, a, axis, keepdims); }

  // ---- outputs, autodiff, serialisation
  /**
   * Expose `t` as graph output `name`. An op result not yet exposed is renamed in
   * place (no copy); inputs, literals and already-exposed tensors go through Identity.
   */
  output(name: string, t: Tensor): void {
    const ref = this.g.own(t, `output ${name}`);
    if (this.g.graphOutputs.some((o) => o.name === name)) throw new Error(`output '${name}' is already defined in graph ${this.g.name}`);
    if (ref.name === name) {
      this.g.graphOutputs.push(ref);
      return;
    }
    if (ref.kind === 'op' && !this.g.graphOutputs.includes(ref)) {
      this.g.claimName(name, 'output');
      this.g.releaseName(ref.name);
      ref.name = name;
      this.g.graphOutputs.push(ref);
      return;
    }
    const id = this.g.emit('Identity', [ref], { shape: ref.shape, dtype: ref.dtype });
    this.g.releaseName(id.name);
    id.name = this.g.claimName(name, 'output');
    this.g.graphOutputs.push(id);
  }

  /** d loss / d wrt for each wrt (reverse mode; only paths reaching wrt are emitted). */
  grad(loss: Tensor, wrt: Tensor[], opts?: GradOptions): Tensor[] {
    return gradImpl(this.g, loss, wrt, opts);
  }

  /** Recorded nodes, for inspection and tests (counts, pruning checks). */
  nodes(): NodeSummary[] {
    return this.g.nodes.map((n) => ({
      opType: n.opType,
      inputs: n.inputs.map((i) => i?.name ?? ''),
      outputs: n.outputs.map((o) => o.name),
      phase: n.phase,
    }));
  }

  /** The serialisable graph: only nodes and literals that reach an output are kept. */
  toGraphDef(): GraphDef {
    const g = this.g;
    if (g.graphOutputs.length === 0) throw new Error(`graph ${g.name}: no outputs; call output(name, tensor) first`);
    const live = new Set<TensorRef>(g.graphOutputs);
    const keep: boolean[] = new Array(g.nodes.length).fill(false);
    for (let k = g.nodes.length - 1; k >= 0; k--) {
      const n = g.nodes[k];
      if (n.outputs.some((o) => live.has(o))) {
        keep[k] = true;
        for (const i of n.inputs) if (i) live.add(i);
      }
    }
    const nodes: NodeDef[] = [];
    g.nodes.forEach((n, k) => {
      if (!keep[k]) return;
      nodes.push({
        opType: n.opType,
        inputs: n.inputs.map((i) => i?.name ?? ''),
        outputs: n.outputs.map((o) => o.name),
        name: `${n.phase[0]}${n.index}_${n.opType}`,
        attrs: n.attrs,
      });
    });
    return {
      name: g.name,
      opset: g.opset,
      nodes,
      inputs: g.graphInputs.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })),
      outputs: g.graphOutputs.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })),
      initializers: g.literals
        .filter((t) => live.has(t))
        .map((t) => ({ name: t.name, dtype: t.dtype, dims: t.shape, data: t.data as TensorData })),
    };
  }

  /** ModelProto bytes. Past ~1.5 GiB of weights, initializers go to in-memory external data (see OnnxModelBytes). */
  toOnnx(opts: WriteOptions = {}): OnnxModelBytes {
    const def = this.toGraphDef();
    const bytes = writeModel(def, opts);
    const disabled: string[] = [];
    // Keep recomputed copies distinct from the forward originals.
    if (def.nodes.some((n) => n.name.startsWith('r'))) disabled.push('CommonSubexpressionElimination');
    // ORT fuses x*sigmoid(x) into com.microsoft.QuickGelu without checking the type,
    // and QuickGelu has only a float kernel: float64 (gradient-check) graphs would fail to load.
    if (this.g.floatType === 'float64') disabled.push('QuickGeluFusion');
    if (disabled.length > 0) bytes.sessionConfig = { 'optimization.disable_specified_optimizers': disabled.join(',') };
    return bytes;
  }
}
