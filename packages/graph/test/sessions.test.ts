import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Session, WorkerSession } from '../src/index.ts';
import type { Feed } from '../src/index.ts';
import { randn, rng } from './gradcheck.ts';

/** A small float32 graph with float, int64 and bool inputs and a gradient output. */
function model(T: number) {
  const b = new GraphBuilder({ name: `m${T}` });
  const x = b.input('x', [2, T, 8]);
  const w = b.input('w', [8, 8]);
  const ids = b.input('ids', [2, T], 'int64');
  const keep = b.input('keep', [2, T, 1], 'bool');
  const table = b.initializer('table', Float32Array.from(randn(rng(9), 16 * 8)), [16, 8]);
  const h = b.add(b.matmul(x, w), b.gather(table, ids));
  const y = b.where(keep, b.tanh(h), 0);
  const loss = b.reduceMean(b.mul(y, y));
  const [gw] = b.grad(loss, [w]);
  b.output('y', y);
  b.output('loss', loss);
  b.output('gw', gw);
  return b.toOnnx();
}

function feeds(T: number, seed = 1): Record<string, Feed> {
  const r = rng(seed);
  return {
    x: { data: Float32Array.from(randn(r, 2 * T * 8)), dims: [2, T, 8] },
    w: { data: Float32Array.from(randn(r, 64, 0.3)), dims: [8, 8] },
    ids: { data: BigInt64Array.from({ length: 2 * T }, (_, i) => BigInt((i * 5) % 16)), dims: [2, T] },
    keep: { data: Uint8Array.from({ length: 2 * T }, (_, i) => (i % 3 === 0 ? 0 : 1)), dims: [2, T, 1] },
  };
}

const open: { release(): Promise<void> }[] = [];
afterAll(async () => {
  for (const s of open) await s.release().catch(() => undefined);
});

describe('Session and WorkerSession', () => {
  it('WorkerSession gives outputs identical to Session', async () => {
    const bytes = model(4);
    const a = await Session.create(bytes);
    const w = await WorkerSession.create(bytes);
    open.push(a, w);
    const f = feeds(4);
    const ra = await a.run(f);
    const rw = await w.run(f);
    expect(Object.keys(rw).sort()).toEqual(['gw', 'loss', 'y']);
    for (const k of Object.keys(ra)) {
      expect(rw[k].dims).toEqual(ra[k].dims);
      expect(Array.from(rw[k].data as Float32Array)).toEqual(Array.from(ra[k].data as Float32Array));
    }
    // masked positions really are zero, unmasked ones are not
    const y = ra.y.data as Float32Array;
    expect(y.slice(0, 8).every((v) => v === 0)).toBe(true);
    expect(y.slice(8, 16).some((v) => v !== 0)).toBe(true);
    // the caller's feeds were copied, not detached
    expect((f.x.data as Float32Array).length).toBe(64);
    // fetch subset
    const only = await w.run(f, ['loss']);
    expect(Object.keys(only)).toEqual(['loss']);
    expect(only.loss.data[0]).toBe(ra.loss.data[0]);
  });

  it('WorkerSession: transfer mode detaches whole-buffer feeds; sliced views are copied', async () => {
    const w = await WorkerSession.create(model(4));
    open.push(w);
    const f = feeds(4);
    const big = new Float32Array(1000);
    big.set(f.x.data as Float32Array, 100);
    const view = big.subarray(100, 164); // a view into a larger buffer: must be sent alone
    const expected = await w.run(f, ['loss']);
    const res = await w.run({ ...f, x: { data: view, dims: [2, 4, 8] } }, ['loss'], { transfer: true });
    expect(res.loss.data[0]).toBe(expected.loss.data[0]);
    expect(big.length).toBe(1000); // not detached
    expect((f.w.data as Float32Array).length).toBe(0); // transferred
  });

  it('the event loop keeps running while a worker session computes', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', [256, 256]);
    let h = x;
    for (let i = 0; i < 100; i++) h = b.tanh(b.matmul(h, x));
    b.output('h', h);
    const w = await WorkerSession.create(b.toOnnx(), { threads: 1 });
    open.push(w);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await w.run({ x: { data: Float32Array.from(randn(rng(2), 65536, 0.05)), dims: [256, 256] } });
    clearInterval(timer);
    // A main-thread Session.run of this graph (~40-80 ms) lets at most one tick through.
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it('clear errors for missing feeds and unknown outputs', async () => {
    const s = await Session.create(model(4));
    open.push(s);
    const { x, w, ids } = feeds(4);
    await expect(s.run({ x, w, ids })).rejects.toThrow(/missing feed 'keep'/);
    await expect(s.run(feeds(4), ['nope'])).rejects.toThrow(/'nope' is not a model output/);
    await expect(s.run({ ...feeds(4), x: { data: new Float32Array(3), dims: [2, 4, 8] } })).rejects.toThrow(/feed 'x': 3 values/);
  });

  it('profilePrefix: endProfiling returns the trace with one model_run per run and the kernels of each', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ragrpo-session-prof-'));
    try {
      const s = await Session.create(model(4), { profilePrefix: path.join(dir, 'p') });
      await s.run(feeds(4));
      await s.run(feeds(4));
      const file = s.endProfiling();
      await s.release();
      expect(path.dirname(file)).toBe(dir);
      const events = JSON.parse(fs.readFileSync(file, 'utf8')) as { cat: string; name: string; args?: { op_name?: string } }[];
      expect(events.filter((e) => e.name === 'model_run')).toHaveLength(2);
      const ops = new Set(events.filter((e) => e.cat === 'Node').map((e) => e.args?.op_name));
      expect(ops.has('Tanh')).toBe(true);
      await expect(async () => (await Session.create(model(4))).endProfiling()).rejects.toThrow(/without profilePrefix/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in-memory external data gives the same result as inline initializers', async () => {
    const build = () => {
      const b = new GraphBuilder();
      const x = b.input('x', [3, 64]);
      const w1 = b.initializer('w1', Float32Array.from(randn(rng(4), 64 * 64, 0.1)), [64, 64]);
      const w2 = b.initializer('w2', Float32Array.from(randn(rng(5), 64 * 32, 0.1)), [64, 32]);
      b.output('y', b.matmul(b.silu(b.matmul(x, w1)), w2));
      return b;
    };
    const inline = build().toOnnx();
    const external = build().toOnnx({ externalData: 'always' });
    expect(inline.externalData).toBeUndefined();
    expect(external.externalData?.map((e) => e.data.byteLength)).toEqual([64 * 64 * 4, 64 * 32 * 4]);
    expect(external.byteLength).toBeLessThan(4096); // weights are not in the protobuf
    const f = { x: { data: Float32Array.from(randn(rng(6), 192)), dims: [3, 64] } };
    const a = await Session.create(inline);
    const e = await Session.create(external);
    const we = await WorkerSession.create(external);
    open.push(a, e, we);
    const ya = Array.from((await a.run(f)).y.data as Float32Array);
    expect(Array.from((await e.run(f)).y.data as Float32Array)).toEqual(ya);
    expect(Array.from((await we.run(f)).y.data as Float32Array)).toEqual(ya);
  });
});
