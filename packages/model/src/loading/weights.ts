// How a graph obtains each named parameter: trained ones become graph inputs fed from JS each step; frozen ones
// become initializers baked into the model (ORT pre-packs them) or, with frozenAsInputs, inputs too: then every
// session of a policy reads the same JS arrays instead of holding its own copy of the base weights.
import type { GraphBuilder, Tensor } from '@ragrpo/graph';

export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

export type WeightMap = ReadonlyMap<string, WeightTensor>;

/**
 * Hands out graph tensors for named parameters. `trainable` names are graph inputs with their stored shape;
 * every other name is an initializer. Each name is materialised once per graph.
 */
export class ParamSource {
  private readonly made = new Map<string, Tensor>();
  readonly inputNames: string[] = [];
  /** Frozen weights this graph takes as inputs (frozenAsInputs): the caller feeds them from the weight map. */
  readonly frozenInputNames: string[] = [];

  constructor(
    private readonly g: GraphBuilder,
    private readonly weights: WeightMap,
    private readonly trainable: ReadonlySet<string>,
    private readonly frozenAsInputs = false,
  ) {}

  has(name: string): boolean {
    return this.weights.has(name);
  }

  isTrainable(name: string): boolean {
    return this.trainable.has(name);
  }

  shape(name: string): number[] {
    return this.get(name).shape;
  }

  private get(name: string): WeightTensor {
    const w = this.weights.get(name);
    if (!w) throw new Error(`weight ${name} is missing from the model (check the safetensors file matches config.json)`);
    return w;
  }

  /** The parameter as stored ([out, in] for linear layers). */
  tensor(name: string): Tensor {
    const hit = this.made.get(name);
    if (hit) return hit;
    const w = this.get(name);
    let t: Tensor;
    if (this.trainable.has(name)) {
      t = this.g.input(name, w.shape, 'float32');
      this.inputNames.push(name);
    } else if (this.frozenAsInputs && w.shape.length >= 2) {
      t = this.g.input(name, w.shape, 'float32');
      this.frozenInputNames.push(name);
    } else {
      t = this.g.initializer(name, w.data, w.shape);
    }
    this.made.set(name, t);
    return t;
  }

  /**
   * A linear layer weight as [in, out], ready for `x @ W`: a Transpose of the stored [out, in] tensor. For frozen
   * initializers ORT folds it into a transposed initializer when the session is created (no per-run cost, no
   * JS-side copy); for inputs (trained, or frozen with frozenAsInputs) ORT fuses it into the MatMul (transB), and
   * the gradient keeps the stored layout.
   */
  transposed(name: string): Tensor {
    const key = `${name}::T`;
    const hit = this.made.get(key);
    if (hit) return hit;
    const t = this.g.transpose(this.tensor(name), [1, 0]);
    this.made.set(key, t);
    return t;
  }
}
