/**
 * Session: onnxruntime-node InferenceSession with ragrpo's defaults (2 intra-op
 * threads, all graph optimisations) and plain Feed records in and out. Reads the
 * external data and session config that toOnnx() attaches to the model bytes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExternalDataFile, OnnxModelBytes } from './onnx-writer.ts';
import type { Feed } from './feeds.ts';
import { fromOrtTensor, toOrtTensor } from './feeds.ts';

export interface SessionOptions {
  /** Intra-op threads (default 2: the training host has 2 vCPUs). */
  threads?: number;
  optimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Initializer bytes kept outside the protobuf (defaults to the model bytes' own). */
  externalData?: ExternalDataFile[];
  /** ORT session config entries, e.g. 'optimization.disable_specified_optimizers'. */
  config?: Record<string, string>;
  /**
   * ORT's CPU arena and memory-pattern planning (default true: fastest). With false,
   * each tensor is freed after its last use, so peak memory follows liveness, which is
   * what activation recomputation reduces.
   */
  memArena?: boolean;
  /** Write ORT's optimised graph here (debugging / tests). */
  optimizedModelPath?: string;
  /**
   * ORT's profiler on: per-kernel timings as Chrome-trace JSON under this path prefix (benchmarks). The
   * file is complete after Session.endProfiling(), which returns its path.
   */
  profilePrefix?: string;
}

/** Nest dotted config keys the way the node binding's `extra` option expects. */
export function configToExtra(config: Record<string, string>): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const parts = key.split('.');
    let o = extra;
    for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
    o[parts[parts.length - 1]] = value;
  }
  return extra;
}

export function ortSessionOptions(model: OnnxModelBytes, opts: SessionOptions = {}): ort.InferenceSession.SessionOptions {
  const threads = opts.threads ?? 2;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`Session: threads must be a positive integer, got ${threads}`);
  const external = opts.externalData ?? model.externalData;
  const config = { ...(model.sessionConfig ?? {}), ...(opts.config ?? {}) };
  const o: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: opts.optimizationLevel ?? 'all',
    executionMode: 'sequential',
  };
  if (external && external.length > 0) o.externalData = external.map((e) => ({ path: e.path, data: e.data }));
  if (Object.keys(config).length > 0) o.extra = configToExtra(config);
  if (opts.memArena === false) {
    o.enableCpuMemArena = false;
    o.enableMemPattern = false;
  }
  if (opts.optimizedModelPath) o.optimizedModelFilePath = opts.optimizedModelPath;
  if (opts.profilePrefix) {
    o.enableProfiling = true;
    o.profileFilePrefix = opts.profilePrefix;
  }
  return o;
}

export class Session {
  private constructor(
    private readonly s: ort.InferenceSession,
    private readonly profilePrefix?: string,
  ) {}

  static async create(model: Uint8Array, opts: SessionOptions = {}): Promise<Session> {
    const s = await ort.InferenceSession.create(model, ortSessionOptions(model as OnnxModelBytes, opts));
    return new Session(s, opts.profilePrefix);
  }

  /**
   * Stops ORT's profiler and returns the trace file's path. The node binding does not return the name ORT
   * chose (prefix + a timestamp), so it is the newest file that starts with the prefix.
   */
  endProfiling(): string {
    if (!this.profilePrefix) throw new Error('Session.endProfiling: the session was created without profilePrefix');
    this.s.endProfiling();
    const dir = path.dirname(path.resolve(this.profilePrefix));
    const base = path.basename(this.profilePrefix);
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.startsWith(base) && f.endsWith('.json'))
      .map((f) => path.join(dir, f))
      .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
    if (files.length === 0) throw new Error(`Session.endProfiling: no profile file ${this.profilePrefix}*.json was written`);
    return files[0];
  }

  get inputNames(): readonly string[] {
    return this.s.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.s.outputNames;
  }

  /** Runs the whole graph (ORT cannot skip nodes); `fetch` limits which outputs are copied back. */
  async run(feeds: Record<string, Feed>, fetch?: string[]): Promise<Record<string, Feed>> {
    const inputs: Record<string, ort.Tensor> = {};
    for (const name of this.s.inputNames) {
      if (!(name in feeds)) throw new Error(`Session.run: missing feed '${name}' (inputs: ${this.s.inputNames.join(', ')})`);
      inputs[name] = toOrtTensor(name, feeds[name]);
    }
    for (const name of Object.keys(feeds)) {
      if (!this.s.inputNames.includes(name)) throw new Error(`Session.run: '${name}' is not a model input (inputs: ${this.s.inputNames.join(', ')})`);
    }
    const names = fetch ?? [...this.s.outputNames];
    for (const n of names) if (!this.s.outputNames.includes(n)) throw new Error(`Session.run: '${n}' is not a model output (outputs: ${this.s.outputNames.join(', ')})`);
    const res = await this.s.run(inputs, names);
    const out: Record<string, Feed> = {};
    for (const n of names) out[n] = fromOrtTensor(res[n]);
    return out;
  }

  async release(): Promise<void> {
    await this.s.release();
  }
}
