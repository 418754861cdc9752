// Runs onnxruntime-node sessions inside a worker_thread so `session.run` never blocks
// the main event loop. Plain .mjs on purpose: a worker in TypeScript would need a
// loader (tsx/vitest do not register one for workers). Protocol: see worker-session.ts.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

let session = null;

function typeOf(data) {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint8Array) return 'bool';
  throw new Error('feed data must be Float32Array, Float64Array, BigInt64Array or Uint8Array');
}

async function handle(msg) {
  switch (msg.op) {
    case 'create': {
      session = await ort.InferenceSession.create(msg.model, msg.options);
      return { value: { inputNames: session.inputNames, outputNames: session.outputNames } };
    }
    case 'run': {
      if (!session) throw new Error('WorkerSession: run before create');
      const feeds = {};
      for (const [name, f] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor(typeOf(f.data), f.data, f.dims);
      const res = await session.run(feeds, msg.fetch);
      const outputs = {};
      const transfer = [];
      for (const name of msg.fetch) {
        const t = res[name];
        outputs[name] = { data: t.data, dims: t.dims.map(Number) };
        // ORT copies outputs into fresh JS buffers: hand them over instead of cloning again.
        if (!(t.data.buffer instanceof SharedArrayBuffer) && t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength) {
          transfer.push(t.data.buffer);
        }
      }
      return { value: outputs, transfer };
    }
    case 'release': {
      if (session) await session.release();
      session = null;
      return { value: null };
    }
    default:
      throw new Error(`WorkerSession: unknown op ${msg.op}`);
  }
}

parentPort.on('message', async (msg) => {
  try {
    const { value, transfer } = await handle(msg);
    try {
      parentPort.postMessage({ id: msg.id, ok: true, value }, transfer ?? []);
    } catch {
      parentPort.postMessage({ id: msg.id, ok: true, value }); // non-transferable buffer: clone
    }
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
