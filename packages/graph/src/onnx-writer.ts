/**
 * ModelProto encoder. Hand-written over protobufjs' low-level Writer because no
 * onnx.proto can be fetched here; the field numbers below were checked against the
 * generated onnx.js that ships in onnxruntime-web (lib/onnxjs/ort-schema/protobuf).
 * Only the fields ragrpo emits are encoded.
 */
import protobuf from 'protobufjs/minimal.js';
import type { Attr, ConstTensor, DType } from './types.ts';
import { DTYPE_BYTES, ONNX_DTYPE, numel } from './types.ts';

const { Writer } = protobuf;
type W = protobuf.Writer;

export interface NodeDef {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs: Record<string, Attr>;
  domain?: string;
}
export interface ValueInfoDef {
  name: string;
  dtype: DType;
  /** Fixed sizes, or names for symbolic dimensions (`dim_param`, e.g. 'batch_size') in graphs built by hand. */
  shape: readonly (number | string)[];
}
export interface GraphDef {
  name: string;
  opset: number;
  nodes: NodeDef[];
  inputs: ValueInfoDef[];
  outputs: ValueInfoDef[];
  initializers: ConstTensor[];
}

/** One in-memory "file" holding external initializer bytes (ORT `externalData` session option). */
export interface ExternalDataFile {
  path: string;
  data: Uint8Array;
}

/**
 * Model bytes, optionally carrying what a session needs to load them: the external
 * data files (weights kept outside the protobuf) and session config entries (e.g. the
 * optimisers to disable so recomputation is not undone). Session.create reads both.
 */
export type OnnxModelBytes = Uint8Array & {
  externalData?: ExternalDataFile[];
  sessionConfig?: Record<string, string>;
};

export interface WriteOptions {
  /** 'auto' (default): external only when initializers exceed `limitBytes`. */
  externalData?: 'auto' | 'always' | 'never';
  /** Initializers smaller than this stay inline even when external (default 1 KiB). */
  externalMinBytes?: number;
  /** Inline budget for 'auto' (default 1.5 GiB, below protobuf's 2 GiB hard limit). */
  limitBytes?: number;
  producerName?: string;
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_TENSOR = 4;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;

/** IR version paired with the opset (ONNX versioning table). */
export function irVersionFor(opset: number): number {
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

function bytesOf(data: ConstTensor['data']): Uint8Array {
  // A view, not a copy: protobufjs copies once into the final buffer.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function writeTensor(w: W, t: ConstTensor, external?: { location: string; length: number }): void {
  if (t.data.length !== numel(t.dims)) {
    throw new Error(`tensor ${t.name}: ${t.data.length} values for shape [${t.dims.join(',')}]`);
  }
  if (t.dims.length > 0) {
    w.uint32((1 << 3) | 2).fork();
    for (const d of t.dims) w.int64(d);
    w.ldelim();
  }
  w.uint32((2 << 3) | 0).int32(ONNX_DTYPE[t.dtype]);
  if (t.name) w.uint32((8 << 3) | 2).string(t.name);
  if (external) {
    for (const [k, v] of [
      ['location', external.location],
      ['offset', '0'],
      ['length', String(external.length)],
    ]) {
      w.uint32((13 << 3) | 2).fork();
      w.uint32((1 << 3) | 2).string(k);
      w.uint32((2 << 3) | 2).string(v);
      w.ldelim();
    }
    w.uint32((14 << 3) | 0).int32(1); // DataLocation.EXTERNAL
  } else {
    w.uint32((9 << 3) | 2).bytes(bytesOf(t.data));
  }
}

function writeAttr(w: W, name: string, a: Attr): void {
  w.uint32((1 << 3) | 2).string(name);
  if ('f' in a) {
    w.uint32((2 << 3) | 5).float(a.f);
    w.uint32((20 << 3) | 0).int32(ATTR_FLOAT);
  } else if ('i' in a) {
    w.uint32((3 << 3) | 0).int64(a.i);
    w.uint32((20 << 3) | 0).int32(ATTR_INT);
  } else if ('s' in a) {
    w.uint32((4 << 3) | 2).bytes(new TextEncoder().encode(a.s));
    w.uint32((20 << 3) | 0).int32(ATTR_STRING);
  } else if ('t' in a) {
    w.uint32((5 << 3) | 2).fork();
    writeTensor(w, a.t);
    w.ldelim();
    w.uint32((20 << 3) | 0).int32(ATTR_TENSOR);
  } else if ('floats' in a) {
    w.uint32((7 << 3) | 2).fork();
    for (const v of a.floats) w.float(v);
    w.ldelim();
    w.uint32((20 << 3) | 0).int32(ATTR_FLOATS);
  } else {
    w.uint32((8 << 3) | 2).fork();
    for (const v of a.ints) w.int64(v);
    w.ldelim();
    w.uint32((20 << 3) | 0).int32(ATTR_INTS);
  }
}

function writeNode(w: W, n: NodeDef): void {
  for (const i of n.inputs) w.uint32((1 << 3) | 2).string(i);
  for (const o of n.outputs) w.uint32((2 << 3) | 2).string(o);
  w.uint32((3 << 3) | 2).string(n.name);
  w.uint32((4 << 3) | 2).string(n.opType);
  for (const [k, a] of Object.entries(n.attrs)) {
    w.uint32((5 << 3) | 2).fork();
    writeAttr(w, k, a);
    w.ldelim();
  }
  if (n.domain) w.uint32((7 << 3) | 2).string(n.domain);
}

function writeValueInfo(w: W, v: ValueInfoDef): void {
  w.uint32((1 << 3) | 2).string(v.name);
  w.uint32((2 << 3) | 2).fork(); // TypeProto
  w.uint32((1 << 3) | 2).fork(); // TypeProto.Tensor
  w.uint32((1 << 3) | 0).int32(ONNX_DTYPE[v.dtype]);
  w.uint32((2 << 3) | 2).fork(); // TensorShapeProto (present even for scalars: rank 0)
  for (const d of v.shape) {
    w.uint32((1 << 3) | 2).fork();
    if (typeof d === 'string') w.uint32((2 << 3) | 2).string(d); // Dimension.dim_param
    else w.uint32((1 << 3) | 0).int64(d); // Dimension.dim_value
    w.ldelim();
  }
  w.ldelim();
  w.ldelim();
  w.ldelim();
}

/** Encode a GraphDef as ModelProto bytes. */
export function writeModel(g: GraphDef, opts: WriteOptions = {}): OnnxModelBytes {
  const mode = opts.externalData ?? 'auto';
  const minBytes = opts.externalMinBytes ?? 1024;
  const limit = opts.limitBytes ?? 1.5 * 2 ** 30;
  const total = g.initializers.reduce((s, t) => s + numel(t.dims) * DTYPE_BYTES[t.dtype], 0);
  const goExternal = mode === 'always' || (mode === 'auto' && total > limit);
  const externalData: ExternalDataFile[] = [];

  const w = Writer.create();
  w.uint32((1 << 3) | 0).int64(irVersionFor(g.opset));
  w.uint32((2 << 3) | 2).string(opts.producerName ?? 'ragrpo-graph');
  w.uint32((7 << 3) | 2).fork(); // GraphProto
  for (const n of g.nodes) {
    w.uint32((1 << 3) | 2).fork();
    writeNode(w, n);
    w.ldelim();
  }
  w.uint32((2 << 3) | 2).string(g.name);
  let inlineBytes = 0;
  for (const t of g.initializers) {
    w.uint32((5 << 3) | 2).fork();
    const bytes = t.data.byteLength;
    if (goExternal && bytes >= minBytes) {
      // One in-memory file per initializer: the file is a view of the caller's
      // array, so weights are never duplicated on the JS side.
      const location = `ext_${externalData.length}.bin`;
      externalData.push({ path: location, data: bytesOf(t.data) });
      writeTensor(w, t, { location, length: bytes });
    } else {
      inlineBytes += bytes;
      writeTensor(w, t);
    }
    w.ldelim();
  }
  if (inlineBytes > 2 ** 31 - 2 ** 24) {
    throw new Error(
      `model ${g.name}: ${inlineBytes} bytes of inline initializers exceed protobuf's 2 GiB limit; use externalData 'auto' or 'always'`,
    );
  }
  for (const v of g.inputs) {
    w.uint32((11 << 3) | 2).fork();
    writeValueInfo(w, v);
    w.ldelim();
  }
  for (const v of g.outputs) {
    w.uint32((12 << 3) | 2).fork();
    writeValueInfo(w, v);
    w.ldelim();
  }
  w.ldelim();
  w.uint32((8 << 3) | 2).fork(); // OperatorSetIdProto, default domain
  w.uint32((1 << 3) | 2).string('');
  w.uint32((2 << 3) | 0).int64(g.opset);
  w.ldelim();
  const out = w.finish() as OnnxModelBytes;
  if (externalData.length > 0) out.externalData = externalData;
  return out;
}
