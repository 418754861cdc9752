/**
 * WorkerSession: the Session interface, with ORT running in a worker_thread
 * (src/ort-worker.mjs) so the event loop stays responsive during a training step.
 * Feed buffers are sent with at most one copy: SharedArrayBuffer-backed feeds are
 * shared, whole-buffer feeds can be transferred ({ transfer: true }), anything else is
 * copied once (just the view, never the whole backing buffer). Outputs come back
 * transferred, not cloned.
 */
import { Worker } from 'node:worker_threads';
import type { Feed } from './feeds.ts';
import type { OnnxModelBytes } from './onnx-writer.ts';
import { feedType } from './feeds.ts';
import { ortSessionOptions } from './session.ts';
import type { SessionOptions } from './session.ts';

export interface WorkerSessionOptions extends SessionOptions {
  /** Move the model bytes into the worker instead of copying (the caller's array is detached). */
  transferModel?: boolean;
}

export interface RunOptions {
  /** Transfer feed buffers that the feed views cover entirely (they become detached here). */
  transfer?: boolean;
}

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

const wholeBuffer = (a: ArrayBufferView) => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;

export class WorkerSession {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;
  inputNames: readonly string[] = [];
  outputNames: readonly string[] = [];

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      this.refresh();
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
    });
    const fail = (e: Error) => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', (e) => fail(new Error(`WorkerSession: worker failed: ${e.message}`)));
    worker.on('exit', (code) => fail(new Error(`WorkerSession: worker exited (code ${code})`)));
    worker.unref();
  }

  /** Keep the process alive only while requests are in flight. */
  private refresh(): void {
    if (this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private call<T>(msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.refresh();
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  static async create(model: Uint8Array, opts: WorkerSessionOptions = {}): Promise<WorkerSession> {
    const worker = new Worker(new URL('./ort-worker.mjs', import.meta.url));
    const s = new WorkerSession(worker);
    const options = ortSessionOptions(model as OnnxModelBytes, opts);
    // Structured clone copies a view's whole backing buffer: send weight views that
    // are slices of a larger buffer (e.g. one safetensors file) as their own bytes.
    if (options.externalData) {
      options.externalData = options.externalData.map((e) => {
        const d = (e as { path: string; data: Uint8Array }).data;
        return { path: (e as { path: string }).path, data: d.buffer instanceof SharedArrayBuffer || wholeBuffer(d) ? d : d.slice() };
      });
    }
    const move = opts.transferModel === true && wholeBuffer(model) && !(model.buffer instanceof SharedArrayBuffer);
    const bytes = move ? model : model.slice(); // slice: plain Uint8Array, only the model's own bytes
    try {
      const names = await s.call<{ inputNames: string[]; outputNames: string[] }>(
        { op: 'create', model: bytes, options },
        [bytes.buffer as ArrayBuffer],
      );
      s.inputNames = names.inputNames;
      s.outputNames = names.outputNames;
    } catch (e) {
      await worker.terminate();
      throw e;
    }
    return s;
  }

  async run(feeds: Record<string, Feed>, fetch?: string[], opts: RunOptions = {}): Promise<Record<string, Feed>> {
    for (const name of this.inputNames) if (!(name in feeds)) throw new Error(`WorkerSession.run: missing feed '${name}' (inputs: ${this.inputNames.join(', ')})`);
    const names = fetch ?? [...this.outputNames];
    for (const n of names) if (!this.outputNames.includes(n)) throw new Error(`WorkerSession.run: '${n}' is not a model output (outputs: ${this.outputNames.join(', ')})`);
    const sent: Record<string, Feed> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, f] of Object.entries(feeds)) {
      feedType(f.data);
      let data = f.data;
      if (!(data.buffer instanceof SharedArrayBuffer)) {
        if (!(opts.transfer && wholeBuffer(data)) || transfer.includes(data.buffer as ArrayBuffer)) data = data.slice() as typeof data;
        transfer.push(data.buffer as ArrayBuffer);
      }
      sent[name] = { data, dims: [...f.dims] };
    }
    return this.call<Record<string, Feed>>({ op: 'run', feeds: sent, fetch: names }, transfer);
  }

  async release(): Promise<void> {
    if (!this.dead) {
      try {
        await this.call({ op: 'release' });
      } finally {
        await this.worker.terminate();
      }
    }
  }
}
