// Times one forward+backward training step (see engine-models.ts) through a plain @ragrpo/graph Session:
// graph build, session creation, then warm-up runs and timed runs that fetch the loss and every gradient.
import { Session, type Feed } from '@ragrpo/graph';
import { benchModel, benchPolicy, parameterCount, trainStepFeeds, trainStepGraph, type ModelDims, type TrainMode } from './engine-models.ts';

export interface StepRequest {
  dims: ModelDims;
  mode: TrainMode;
  batch: number;
  seqLen: number;
  warmup: number;
  runs: number;
  threads?: number;
  /** Frozen initializers as in-memory external data instead of inside the protobuf bytes. */
  externalData?: boolean;
  /** ORT's CPU memory arena (default true). */
  memArena?: boolean;
  /** Activation recomputation in the backward. */
  recompute?: boolean;
}

export interface StepResult {
  params: number;
  trainedParams: number;
  weightsMs: number;
  graphMs: number;
  modelBytes: number;
  sessionMs: number;
  /** every timed run, ms, in order */
  stepsMs: number[];
  medianMs: number;
  minMs: number;
  /** process RSS (MiB) after each stage: weights built, graph serialised, session created, timed runs done */
  rssMiB: { weights: number; graph: number; session: number; steps: number };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

export interface PreparedStep {
  session: Session;
  feeds: Record<string, Feed>;
  info: Omit<StepResult, 'stepsMs' | 'medianMs' | 'minMs' | 'rssMiB'> & { rssMiB: Omit<StepResult['rssMiB'], 'steps'> };
}

/** Builds weights, graph and session, and runs the warm-up steps. */
export async function prepareTrainStep(req: StepRequest): Promise<PreparedStep> {
  let t = performance.now();
  const model = benchModel(req.dims);
  const policy = benchPolicy(model, req.mode);
  const weightsMs = performance.now() - t;
  const rssWeights = rssMiB();
  t = performance.now();
  const bytes = trainStepGraph(policy, req.batch, req.seqLen, { externalData: req.externalData, recompute: req.recompute });
  const graphMs = performance.now() - t;
  const rssGraph = rssMiB();
  t = performance.now();
  const session = await Session.create(bytes, { threads: req.threads ?? 2, memArena: req.memArena ?? true });
  const sessionMs = performance.now() - t;
  const rssSession = rssMiB();
  const feeds = trainStepFeeds(policy, req.batch, req.seqLen);
  let trainedParams = 0;
  for (const w of policy.params.values()) trainedParams += w.data.length;
  for (let i = 0; i < req.warmup; i++) await session.run(feeds);
  return {
    session,
    feeds,
    info: {
      params: parameterCount(model),
      trainedParams,
      weightsMs,
      graphMs,
      modelBytes: bytes.byteLength,
      sessionMs,
      rssMiB: { weights: rssWeights, graph: rssGraph, session: rssSession },
    },
  };
}

/** Wall time (ms) of each of `runs` steps; every run fetches the loss and all gradients. */
export async function timeSteps(p: PreparedStep, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    const out = await p.session.run(p.feeds);
    times.push(performance.now() - s);
    const loss = (out.loss.data as Float32Array)[0];
    if (!Number.isFinite(loss)) throw new Error(`bench train step: loss is ${loss}`);
  }
  return times;
}

export async function measureTrainStep(req: StepRequest): Promise<StepResult> {
  const p = await prepareTrainStep(req);
  const stepsMs = await timeSteps(p, req.runs);
  const rssSteps = rssMiB();
  await p.session.release();
  return { ...p.info, stepsMs, medianMs: median(stepsMs), minMs: Math.min(...stepsMs), rssMiB: { ...p.info.rssMiB, steps: rssSteps } };
}
