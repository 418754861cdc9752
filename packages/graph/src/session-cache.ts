/**
 * SessionCache: one session per key (a sequence-length bucket, say), created lazily
 * on first use and reused, since creating a session takes seconds at 100M+ parameters.
 * Concurrent get() calls for one key share a single creation. Optional LRU bound
 * releases the least recently used session when exceeded.
 */
import type { Feed } from './feeds.ts';

export interface RunnableSession {
  run(feeds: Record<string, Feed>, fetch?: string[]): Promise<Record<string, Feed>>;
  release(): Promise<void>;
}

export class SessionCache<K = number, S extends RunnableSession = RunnableSession> {
  private readonly entries = new Map<K, Promise<S>>();

  constructor(
    private readonly factory: (key: K) => Promise<S> | S,
    private readonly opts: { maxEntries?: number } = {},
  ) {
    const m = opts.maxEntries ?? Infinity;
    if (!(m >= 1)) throw new Error(`SessionCache: maxEntries must be >= 1, got ${m}`);
  }

  get size(): number {
    return this.entries.size;
  }

  keys(): K[] {
    return [...this.entries.keys()];
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  async get(key: K): Promise<S> {
    let p = this.entries.get(key);
    if (p) {
      // refresh recency (Map keeps insertion order)
      this.entries.delete(key);
      this.entries.set(key, p);
      return p;
    }
    p = Promise.resolve().then(() => this.factory(key));
    this.entries.set(key, p);
    p.catch(() => {
      if (this.entries.get(key) === p) this.entries.delete(key); // a failed creation is retried next time
    });
    const max = this.opts.maxEntries ?? Infinity;
    while (this.entries.size > max) {
      const oldest = this.entries.keys().next().value as K;
      await this.delete(oldest);
    }
    return p;
  }

  /** Release and forget one session. */
  async delete(key: K): Promise<void> {
    const p = this.entries.get(key);
    if (!p) return;
    this.entries.delete(key);
    const s = await p.catch(() => null);
    if (s) await s.release();
  }

  /** Release every session. */
  async clear(): Promise<void> {
    await Promise.all(this.keys().map((k) => this.delete(k)));
  }
}
