/**
 * A minimal ONNX ModelProto encoder for the tiny embedder. Hand-written over protobufjs' Writer
 * because the shared one in @ragrpo/graph (packages/graph/src/onnx-writer.ts) only writes fixed
 * dimensions (`dim_value`), while transformers.js feeds any batch size and sequence length, which
 * needs symbolic dimensions (`dim_param`). Field numbers are those of onnx.proto.
 */
import protobuf from 'protobufjs/minimal.js';

const { Writer } = protobuf;
type W = protobuf.Writer;

/** TensorProto.DataType values used here. */
export const FLOAT = 1;
export const INT64 = 7;

export interface Tensor {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

export type Attribute =
  | { f: number }
  | { i: number }
  | { ints: number[] }
  | { t: Tensor };

export interface Node {
  opType: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, Attribute>;
}

/** A graph input or output: dimensions are numbers (fixed) or names (symbolic, e.g. 'batch'). */
export interface ValueInfo {
  name: string;
  elemType: number;
  shape: (number | string)[];
}

export interface Graph {
  name: string;
  nodes: Node[];
  initializers: Tensor[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

// AttributeProto.AttributeType
const ATTR = { FLOAT: 1, INT: 2, TENSOR: 4, INTS: 7 } as const;

function elemTypeOf(t: Tensor): number {
  return t.data instanceof Float32Array ? FLOAT : INT64;
}

function writeTensor(w: W, t: Tensor): void {
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) throw new Error(`tensor ${t.name}: ${t.data.length} values for shape [${t.dims.join(', ')}]`);
  if (t.dims.length) {
    w.uint32((1 << 3) | 2).fork();
    for (const d of t.dims) w.int64(d);
    w.ldelim();
  }
  w.uint32((2 << 3) | 0).int32(elemTypeOf(t));
  w.uint32((8 << 3) | 2).string(t.name);
  // raw_data is little-endian, which is how typed arrays sit in memory on every platform Node runs on.
  w.uint32((9 << 3) | 2).bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function writeAttribute(w: W, name: string, a: Attribute): void {
  w.uint32((1 << 3) | 2).string(name);
  if ('f' in a) {
    w.uint32((2 << 3) | 5).float(a.f);
    w.uint32((20 << 3) | 0).int32(ATTR.FLOAT);
  } else if ('i' in a) {
    w.uint32((3 << 3) | 0).int64(a.i);
    w.uint32((20 << 3) | 0).int32(ATTR.INT);
  } else if ('t' in a) {
    w.uint32((5 << 3) | 2).fork();
    writeTensor(w, a.t);
    w.ldelim();
    w.uint32((20 << 3) | 0).int32(ATTR.TENSOR);
  } else {
    w.uint32((8 << 3) | 2).fork();
    for (const v of a.ints) w.int64(v);
    w.ldelim();
    w.uint32((20 << 3) | 0).int32(ATTR.INTS);
  }
}

function writeValueInfo(w: W, v: ValueInfo): void {
  w.uint32((1 << 3) | 2).string(v.name);
  w.uint32((2 << 3) | 2).fork(); // TypeProto
  w.uint32((1 << 3) | 2).fork(); // TypeProto.Tensor
  w.uint32((1 << 3) | 0).int32(v.elemType);
  w.uint32((2 << 3) | 2).fork(); // TensorShapeProto
  for (const d of v.shape) {
    w.uint32((1 << 3) | 2).fork(); // Dimension
    if (typeof d === 'number') w.uint32((1 << 3) | 0).int64(d);
    else w.uint32((2 << 3) | 2).string(d);
    w.ldelim();
  }
  w.ldelim();
  w.ldelim();
  w.ldelim();
}

/** Encodes the graph as ModelProto bytes for one default-domain opset. */
export function encodeModel(g: Graph, opset: number, irVersion: number, producer: string): Uint8Array {
  const w = Writer.create();
  w.uint32((1 << 3) | 0).int64(irVersion);
  w.uint32((2 << 3) | 2).string(producer);
  w.uint32((7 << 3) | 2).fork(); // GraphProto
  g.nodes.forEach((n, k) => {
    w.uint32((1 << 3) | 2).fork();
    for (const i of n.inputs) w.uint32((1 << 3) | 2).string(i);
    for (const o of n.outputs) w.uint32((2 << 3) | 2).string(o);
    w.uint32((3 << 3) | 2).string(`${n.opType}_${k}`);
    w.uint32((4 << 3) | 2).string(n.opType);
    for (const [name, a] of Object.entries(n.attrs ?? {})) {
      w.uint32((5 << 3) | 2).fork();
      writeAttribute(w, name, a);
      w.ldelim();
    }
    w.ldelim();
  });
  w.uint32((2 << 3) | 2).string(g.name);
  for (const t of g.initializers) {
    w.uint32((5 << 3) | 2).fork();
    writeTensor(w, t);
    w.ldelim();
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
  w.uint32((8 << 3) | 2).fork(); // OperatorSetIdProto
  w.uint32((1 << 3) | 2).string('');
  w.uint32((2 << 3) | 0).int64(opset);
  w.ldelim();
  return w.finish();
}
