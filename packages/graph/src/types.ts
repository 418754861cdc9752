/**
 * Core value types shared by the builder, autodiff and the ONNX writer.
 * Shapes are always static numbers: sessions are created per length bucket.
 */
export type DType = 'float32' | 'float64' | 'int64' | 'bool';

/** A value in the graph: what callers hold and pass back to builder methods. */
export interface Tensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** ONNX TensorProto.DataType codes for the dtypes we emit. */
export const ONNX_DTYPE: Record<DType, number> = { float32: 1, int64: 7, bool: 9, float64: 11 };

/** Bytes per element, used for raw_data and external-data sizing. */
export const DTYPE_BYTES: Record<DType, number> = { float32: 4, int64: 8, bool: 1, float64: 8 };

export type TensorData = Float32Array | Float64Array | BigInt64Array | Uint8Array;

/** A node attribute, tagged so the writer knows the ONNX AttributeProto type. */
export type Attr =
  | { i: number }
  | { f: number }
  | { s: string }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { t: ConstTensor };

/** Literal tensor data (initializers, constants, attribute tensors). */
export interface ConstTensor {
  name: string;
  dtype: DType;
  dims: readonly number[];
  data: TensorData;
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
