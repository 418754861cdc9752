/**
 * The recording core of the graph builder: tensors, nodes, constants. Op functions in
 * ops/*.ts append nodes here together with their vector-Jacobian rule; autodiff.ts
 * walks the recorded nodes backwards. Kept separate from builder.ts so op modules
 * can depend on it without a cycle.
 */
import type { Attr, DType, Tensor, TensorData } from './types.ts';
import { isFloat, numel } from './types.ts';

export type TensorKind = 'input' | 'initializer' | 'constant' | 'op';
/** forward: user ops; backward: emitted by grad(); recompute: forward ops re-emitted by grad({recompute}). */
export type Phase = 'forward' | 'backward' | 'recompute';

export class TensorRef implements Tensor {
  constructor(
    /** Mutable only so output() can give an op result its public name without an Identity copy. */
    public name: string,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly kind: TensorKind,
    readonly owner: GraphCore,
    public producer: OpNode | null = null,
    /** Literal data for initializers and constants. */
    readonly data?: TensorData,
  ) {}
}

export interface OpNode {
  index: number;
  opType: string;
  inputs: (TensorRef | null)[];
  outputs: TensorRef[];
  attrs: Record<string, Attr>;
  vjp?: VjpRule;
  /**
   * The tensors the VJP differentiates with respect to, when they are not the ONNX inputs (fused gradient rules
   * of composites: e.g. GatherElements(LogSoftmax(x)) sends its gradient straight to x). Defaults to `inputs`.
   */
  gradInputs?: (TensorRef | null)[];
  phase: Phase;
}

/** What a VJP rule sees. Forward values are read through x()/y() so grad() can substitute recomputed copies. */
export interface VjpCtx {
  g: GraphCore;
  node: OpNode;
  /** Gradient of the loss w.r.t. the node's (first) output. */
  dy: TensorRef;
  /** need[i]: whether input i lies on a path to a requested tensor (only those grads are emitted). */
  need: boolean[];
  /** Forward value of differentiated input i (node.gradInputs ?? node.inputs). */
  x(i: number): TensorRef;
  y(): TensorRef;
  /** Forward value of any tensor the rule reads (rematerialised like x()/y() when recomputing). */
  value(t: TensorRef): TensorRef;
}
/** Returns one gradient per input (null where not needed or not differentiable). */
export type VjpRule = (c: VjpCtx) => (TensorRef | null)[];

export interface CoreOptions {
  name?: string;
  floatType?: 'float32' | 'float64';
  opset?: number;
}

export class GraphCore {
  readonly name: string;
  readonly floatType: 'float32' | 'float64';
  readonly opset: number;
  readonly nodes: OpNode[] = [];
  readonly graphInputs: TensorRef[] = [];
  /** Initializers and constants, in creation order. */
  readonly literals: TensorRef[] = [];
  readonly graphOutputs: TensorRef[] = [];
  phase: Phase = 'forward';
  private readonly names = new Set<string>();
  private counter = 0;
  private readonly constCache = new Map<string, TensorRef>();

  constructor(opts: CoreOptions = {}) {
    this.name = opts.name ?? 'ragrpo';
    this.floatType = opts.floatType ?? 'float32';
    this.opset = opts.opset ?? 18;
    if (this.floatType !== 'float32' && this.floatType !== 'float64') {
      throw new Error(`GraphBuilder: floatType must be 'float32' or 'float64', got ${String(this.floatType)}`);
    }
    if (!Number.isInteger(this.opset) || this.opset < 17 || this.opset > 22) {
      throw new Error(`GraphBuilder: opset ${this.opset} unsupported; use 17..22 (onnxruntime-node 1.30 runs these)`);
    }
  }

  claimName(name: string, what: string): string {
    if (!name || this.names.has(name)) throw new Error(`${what} name '${name}' is empty or already used in graph ${this.name}`);
    this.names.add(name);
    return name;
  }

  freshName(prefix: string): string {
    let n: string;
    do n = `${prefix}_${this.counter++}`;
    while (this.names.has(n));
    this.names.add(n);
    return n;
  }

  releaseName(name: string): void {
    this.names.delete(name);
  }

  own(t: Tensor, what = 'tensor'): TensorRef {
    if (!(t instanceof TensorRef) || t.owner !== this) {
      throw new Error(`${what} '${(t as Tensor)?.name}' does not belong to graph ${this.name}`);
    }
    return t;
  }

  /** Append one node with a single output. */
  emit(
    opType: string,
    inputs: (TensorRef | null)[],
    out: { shape: readonly number[]; dtype: DType },
    attrs: Record<string, Attr> = {},
    vjp?: VjpRule,
    /** What the VJP differentiates with respect to, when not `inputs` (see OpNode.gradInputs). */
    gradInputs?: (TensorRef | null)[],
  ): TensorRef {
    for (const i of inputs) if (i && i.owner !== this) throw new Error(`${opType}: input '${i.name}' belongs to another graph`);
    const node: OpNode = { index: this.nodes.length, opType, inputs, outputs: [], attrs, phase: this.phase };
    if (vjp && isFloat(out.dtype)) node.vjp = vjp;
    if (gradInputs) node.gradInputs = gradInputs;
    const t = new TensorRef(this.freshName(opType.toLowerCase()), [...out.shape], out.dtype, 'op', this, node);
    node.outputs.push(t);
    this.nodes.push(node);
    return t;
  }

  addInput(name: string, shape: number[], dtype: DType): TensorRef {
    checkShape(shape, `input ${name}`);
    const t = new TensorRef(this.claimName(name, 'input'), [...shape], dtype, 'input', this);
    this.graphInputs.push(t);
    return t;
  }

  addLiteral(name: string | null, data: TensorData, shape: readonly number[], dtype: DType, kind: 'initializer' | 'constant'): TensorRef {
    checkShape(shape, `${kind} ${name ?? ''}`);
    if (data.length !== numel(shape)) {
      throw new Error(`${kind} ${name ?? ''}: ${data.length} values do not fill shape [${shape.join(',')}] (${numel(shape)})`);
    }
    const n = name === null ? this.freshName('const') : this.claimName(name, kind);
    const t = new TensorRef(n, [...shape], dtype, kind, this, null, data);
    this.literals.push(t);
    return t;
  }

  /** A constant; small ones are deduplicated so repeated scalars/shapes become one initializer. */
  literal(values: ArrayLike<number> | BigInt64Array, shape: readonly number[], dtype: DType): TensorRef {
    const small = values.length <= 64;
    const key = small ? `${dtype}|${shape.join(',')}|${Array.from(values as ArrayLike<number | bigint>).join(',')}` : '';
    if (small) {
      const hit = this.constCache.get(key);
      if (hit) return hit;
    }
    const t = this.addLiteral(null, toTyped(values, dtype), shape, dtype, 'constant');
    if (small) this.constCache.set(key, t);
    return t;
  }

  /** 1-D int64 constant (shapes, axes, slice bounds). */
  i64(values: readonly number[]): TensorRef {
    return this.literal(values, [values.length], 'int64');
  }

  /** Scalar of the given dtype. */
  scalar(v: number, dtype: DType): TensorRef {
    return this.literal([v], [], dtype);
  }

  /** Accept a tensor or a JS number (converted to a scalar of `like`'s dtype). */
  lift(x: Tensor | number, like: DType, what: string): TensorRef {
    if (typeof x === 'number') return this.scalar(x, like);
    return this.own(x, what);
  }
}

export function checkShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${what}: shape [${String(shape)}] must be non-negative integers (shapes are static)`);
  }
}

export function toTyped(values: ArrayLike<number> | ArrayLike<bigint>, dtype: DType): TensorData {
  switch (dtype) {
    case 'float32':
      return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>, Number);
    case 'float64':
      return values instanceof Float64Array ? values : Float64Array.from(values as ArrayLike<number>, Number);
    case 'int64':
      return values instanceof BigInt64Array ? values : BigInt64Array.from(values as ArrayLike<number>, (v) => BigInt(v));
    case 'bool':
      return Uint8Array.from(values as ArrayLike<number>, (v) => (Number(v) ? 1 : 0));
  }
}
