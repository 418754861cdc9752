/**
 * The hand-written ModelProto encoder, decoded by an independent implementation:
 * the protobufjs-generated onnx.js that onnxruntime-web ships (present in this
 * workspace's node_modules through @huggingface/transformers; test-only oracle).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, irVersionFor, writeModel } from '../src/index.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const oraclePath = path.join(repoRoot, 'node_modules/onnxruntime-web/lib/onnxjs/ort-schema/protobuf/onnx.js');
const hasOracle = existsSync(oraclePath);
const decode = (bytes: Uint8Array): any => {
  const { onnx } = createRequire(import.meta.url)(oraclePath);
  return onnx.ModelProto.toObject(onnx.ModelProto.decode(bytes), { longs: Number, bytes: Array, defaults: false });
};

describe.skipIf(!hasOracle)('ONNX writer (decoded by onnxruntime-web onnx.js)', () => {
  it('encodes model, graph, nodes, attributes, initializers and value infos', () => {
    const b = new GraphBuilder({ name: 'w', opset: 18 });
    const x = b.input('x', [2, 3]);
    const ids = b.input('ids', [4], 'int64');
    const t = b.initializer('table', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const y = b.softmax(b.transpose(b.add(x, b.gather(t, [1, 0])), [1, 0]), 0);
    b.output('y', y);
    b.output('z', b.cast(ids, 'float32'));
    b.output('s', b.reduceSum(x)); // scalar output
    const m = decode(b.toOnnx());
    expect(m.irVersion).toBe(8);
    expect(m.opsetImport).toEqual([{ domain: '', version: 18 }]);
    expect(m.producerName).toBe('ragrpo-graph');
    expect(m.graph.name).toBe('w');
    const byOp = Object.fromEntries(m.graph.node.map((n: { opType: string }) => [n.opType, n]));
    expect(byOp.Transpose.attribute).toEqual([{ name: 'perm', ints: [1, 0], type: 7 }]);
    expect(byOp.Softmax.attribute).toEqual([{ name: 'axis', i: 0, type: 2 }]);
    expect(byOp.Cast.attribute).toEqual([{ name: 'to', i: 1, type: 2 }]);
    const table = m.graph.initializer.find((i: { name: string }) => i.name === 'table');
    expect(table.dims).toEqual([2, 3]);
    expect(table.dataType).toBe(1);
    expect(Array.from(new Float32Array(Uint8Array.from(table.rawData).buffer))).toEqual([1, 2, 3, 4, 5, 6]);
    const idx = m.graph.initializer.find((i: { dataType: number; dims: number[] }) => i.dataType === 7 && i.dims?.[0] === 2);
    expect(Array.from(new BigInt64Array(Uint8Array.from(idx.rawData).buffer))).toEqual([1n, 0n]);
    expect(m.graph.input.map((i: { name: string }) => i.name)).toEqual(['x', 'ids']);
    expect(m.graph.input[1].type.tensorType).toEqual({ elemType: 7, shape: { dim: [{ dimValue: 4 }] } });
    expect(m.graph.output.map((o: { name: string }) => o.name)).toEqual(['y', 'z', 's']);
    expect(m.graph.output[2].type.tensorType).toEqual({ elemType: 1, shape: {} }); // rank 0
  });

  it('float and tensor attributes, negative int64, external data locations', () => {
    const bytes = writeModel(
      {
        name: 'g',
        opset: 21,
        nodes: [
          { opType: 'X', name: 'n', inputs: ['a', ''], outputs: ['b'], attrs: { f: { f: 0.5 }, s: { s: 'add' }, ints: { ints: [-3, 2 ** 40] }, fl: { floats: [1.5, -2] }, t: { t: { name: '', dtype: 'float64', dims: [1], data: Float64Array.from([7]) } } } },
        ],
        inputs: [{ name: 'a', dtype: 'bool', shape: [3] }],
        outputs: [{ name: 'b', dtype: 'float64', shape: [3] }],
        initializers: [{ name: 'w', dtype: 'float32', dims: [256, 2], data: new Float32Array(512).fill(1) }],
      },
      { externalData: 'always' },
    );
    const m = decode(bytes);
    expect(m.irVersion).toBe(irVersionFor(21));
    const [n] = m.graph.node;
    expect(n.input).toEqual(['a', '']);
    const a = Object.fromEntries(n.attribute.map((x: { name: string }) => [x.name, x]));
    expect(a.f).toMatchObject({ f: 0.5, type: 1 });
    expect(String.fromCharCode(...a.s.s)).toBe('add');
    expect(a.ints).toMatchObject({ ints: [-3, 2 ** 40], type: 7 });
    expect(a.fl).toMatchObject({ floats: [1.5, -2], type: 6 });
    expect(a.t.type).toBe(4);
    expect(a.t.t.dataType).toBe(11);
    const w = m.graph.initializer[0];
    expect(w.rawData).toBeUndefined();
    expect(w.dataLocation).toBe(1);
    expect(w.externalData).toEqual([
      { key: 'location', value: 'ext_0.bin' },
      { key: 'offset', value: '0' },
      { key: 'length', value: '2048' },
    ]);
    expect(bytes.externalData?.[0].path).toBe('ext_0.bin');
    expect(m.graph.input[0].type.tensorType.elemType).toBe(9);
  });
});

describe('external data policy', () => {
  it("'auto' moves initializers out only past the inline limit; small ones stay inline", () => {
    const weights = new Float32Array(300 * 300).fill(0.5);
    const make = () => {
      const b = new GraphBuilder();
      const x = b.input('x', [1, 300]);
      const big = b.initializer('big', weights, [300, 300]);
      b.output('y', b.mul(b.matmul(x, big), 2));
      return b;
    };
    expect(make().toOnnx().externalData).toBeUndefined();
    const out = make().toOnnx({ limitBytes: 100_000 });
    expect(out.externalData?.length).toBe(1); // 'big'; the scalar constant 2 stays inline
    // the external file is a view of the builder's array, not a copy
    expect(out.externalData?.[0].data.byteLength).toBe(360_000);
    expect(out.externalData?.[0].data.buffer).toBe(weights.buffer);
    expect(() => make().toOnnx({ externalData: 'never', limitBytes: 1 })).not.toThrow();
  });
});
