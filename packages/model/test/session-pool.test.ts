// The policy's session cache (it replaced @ragrpo/graph's unused SessionCache): one session per key, created
// once even when asked for concurrently, counted per graph kind, and a failed creation is not cached.
import { GraphBuilder } from '@ragrpo/graph';
import { describe, expect, it } from 'vitest';
import { SessionPool } from '../src/policy/session-pool.ts';

function tinyGraph(n: number) {
  const g = new GraphBuilder({ name: `pool${n}` });
  g.output('y', g.mul(g.input('x', [n]), 2));
  return g.toOnnx();
}

describe('SessionPool', () => {
  it('shares one creation per key, counts creations per kind, and drops sessions by prefix', async () => {
    const pool = new SessionPool();
    let builds = 0;
    const build = (n: number) => () => (builds++, tinyGraph(n));
    const [a, b] = await Promise.all([pool.get('logits|4', build(4)), pool.get('logits|4', build(4))]);
    expect(a).toBe(b);
    await pool.get('decode|2', build(2));
    expect(builds).toBe(2);
    expect(Object.fromEntries(pool.created)).toEqual({ logits: 1, decode: 1 });
    const y = await a.run({ x: { data: Float32Array.of(1, 2, 3, 4), dims: [4] } });
    expect(Array.from(y.y.data as Float32Array)).toEqual([2, 4, 6, 8]);
    await pool.invalidate('logits');
    await pool.get('logits|4', build(4));
    expect(builds).toBe(3);
    await pool.release();
  });

  it('a failed creation is not cached: the next get builds again', async () => {
    const pool = new SessionPool();
    // bytes ORT cannot parse: Session.create rejects
    await expect(pool.get('bad|1', () => Uint8Array.of(1, 2, 3))).rejects.toThrow();
    const s = await pool.get('bad|1', () => tinyGraph(1));
    expect((await s.run({ x: { data: Float32Array.of(5), dims: [1] } })).y.data[0]).toBe(10);
    await pool.release();
  });
});
