/** Plain-data tensors passed to and from sessions (also across worker_threads). */
import * as ort from 'onnxruntime-node';

export type FeedData = Float32Array | Float64Array | BigInt64Array | Uint8Array;
/** A Uint8Array is read as bool (the only byte-sized dtype the builder emits). */
export interface Feed {
  data: FeedData;
  dims: number[];
}

export function feedType(data: FeedData): 'float32' | 'float64' | 'int64' | 'bool' {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint8Array) return 'bool';
  throw new Error('feed data must be Float32Array, Float64Array, BigInt64Array or Uint8Array');
}

/** Wrap without copying (ORT reads the JS buffer in place). */
export function toOrtTensor(name: string, f: Feed): ort.Tensor {
  const n = f.dims.reduce((a, b) => a * b, 1);
  if (!f || !f.data || f.data.length !== n) {
    throw new Error(`feed '${name}': ${f?.data?.length} values for dims [${f?.dims?.join(',')}] (${n} expected)`);
  }
  return new ort.Tensor(feedType(f.data), f.data, f.dims);
}

export function fromOrtTensor(t: ort.Tensor): Feed {
  return { data: t.data as FeedData, dims: t.dims.map(Number) };
}

/** What Session and WorkerSession have in common: run feeds (fetching some or all outputs), release. */
export interface RunnableSession {
  run(feeds: Record<string, Feed>, fetch?: string[]): Promise<Record<string, Feed>>;
  release(): Promise<void>;
}
