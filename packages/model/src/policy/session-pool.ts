// Sessions keyed by graph kind and static shape (batch, length buckets). Building a graph and creating an ORT
// session costs seconds for 100M+ parameter models, so each shape is built once and reused; `onCreate` lets
// tests and benchmarks count how often that happens (e.g. that a group of completions shares one prefill).
import { Session, WorkerSession, type Feed, type OnnxModelBytes, type RunnableSession } from '@ragrpo/graph';

export type { RunnableSession } from '@ragrpo/graph';

export interface SessionPoolOptions {
  threads?: number;
  /** Run ORT in a worker thread so the event loop stays free (session.run blocks otherwise). */
  worker?: boolean;
  /**
   * Graph kinds (key prefixes) whose sessions run without ORT's CPU memory arena. The arena keeps
   * its high-water mark for the session's life; for training graphs, whose activations are large,
   * that is most of the process's memory (12 layers, d=768, 512 tokens: 3.7 GB with it, 2.3 GB
   * without). Inference graphs keep it: their many small per-token allocations profit from it.
   * Default: ['train'].
   */
  noMemArena?: readonly string[];
  /**
   * Weights every session may take as inputs (a policy's frozen base, with frozenAsInputs graphs): fed to each
   * run for the input names the caller's feeds leave out, so no call site lists them.
   */
  sharedFeeds?: ReadonlyMap<string, { shape: number[]; data: Float32Array }>;
}

export class SessionPool {
  private readonly sessions = new Map<string, Promise<RunnableSession>>();
  /** The model bytes' external-data views, kept referenced for as long as their session lives. */
  private readonly keepAlive = new Map<string, unknown>();
  /** How many sessions each key prefix (text before the first '|') created: observability for tests/benchmarks. */
  readonly created = new Map<string, number>();

  constructor(private readonly opts: SessionPoolOptions = {}) {}

  get(key: string, build: () => OnnxModelBytes): Promise<RunnableSession> {
    let s = this.sessions.get(key);
    if (!s) {
      const kind = key.split('|')[0];
      this.created.set(kind, (this.created.get(kind) ?? 0) + 1);
      const bytes = build() as OnnxModelBytes;
      this.keepAlive.set(key, bytes.externalData);
      const o = { threads: this.opts.threads, memArena: !(this.opts.noMemArena ?? ['train']).includes(kind) };
      const created = (this.opts.worker ? WorkerSession.create(bytes, o) : Session.create(bytes, o)) as Promise<RunnableSession & { inputNames: readonly string[] }>;
      s = created.then((session) => withSharedFeeds(session, this.opts.sharedFeeds));
      // A failed creation must not poison the key for later attempts.
      s.catch(() => {
        this.sessions.delete(key);
        this.keepAlive.delete(key);
      });
      this.sessions.set(key, s);
    }
    return s;
  }

  /** Drops every session whose key starts with `prefix` (e.g. after frozen weights change). */
  async invalidate(prefix = ''): Promise<void> {
    const drop = [...this.sessions.entries()].filter(([k]) => k.startsWith(prefix));
    for (const [k] of drop) this.sessions.delete(k);
    await Promise.all(drop.map(async ([, s]) => (await s.catch(() => null))?.release()));
    for (const [k] of drop) this.keepAlive.delete(k);
  }

  async release(): Promise<void> {
    await this.invalidate('');
  }
}

/** A session whose runs get the shared weights it takes as inputs (wrapped, not copied); the caller's feeds win. */
function withSharedFeeds(session: RunnableSession & { inputNames: readonly string[] }, shared: SessionPoolOptions['sharedFeeds']): RunnableSession {
  const names = shared ? session.inputNames.filter((n) => shared.has(n)) : [];
  if (names.length === 0) return session;
  const feeds: Record<string, Feed> = {};
  for (const n of names) { const w = shared!.get(n)!; feeds[n] = { data: w.data, dims: w.shape }; }
  return {
    run: (own, fetch) => session.run({ ...feeds, ...own }, fetch),
    release: () => session.release(),
  };
}
