// Times one forward+backward training step (see engine-models.ts) through a plain @ragrpo/graph Session:
// graph build, session creation, then warm-up runs and timed runs that fetch the loss and every gradient.
import { Session } from '@ragrpo/graph';
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
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function measureTrainStep(req: StepRequest): Promise<StepResult> {
  let t = performance.now();
  const model = benchModel(req.dims);
  const policy = benchPolicy(model, req.mode);
  const weightsMs = performance.now() - t;
  t = performance.now();
  const bytes = trainStepGraph(policy, req.batch, req.seqLen, req.externalData ?? false);
  const graphMs = performance.now() - t;
  t = performance.now();
  const session = await Session.create(bytes, { threads: req.threads ?? 2 });
  const sessionMs = performance.now() - t;
  const feeds = trainStepFeeds(policy, req.batch, req.seqLen);
  let trainedParams = 0;
  for (const w of policy.params.values()) trainedParams += w.data.length;
  for (let i = 0; i < req.warmup; i++) await session.run(feeds);
  const stepsMs: number[] = [];
  for (let i = 0; i < req.runs; i++) {
    const s = performance.now();
    const out = await session.run(feeds);
    stepsMs.push(performance.now() - s);
    const loss = (out.loss.data as Float32Array)[0];
    if (!Number.isFinite(loss)) throw new Error(`bench train step: loss is ${loss}`);
  }
  await session.release();
  return {
    params: parameterCount(model),
    trainedParams,
    weightsMs,
    graphMs,
    modelBytes: bytes.byteLength,
    sessionMs,
    stepsMs,
    medianMs: median(stepsMs),
    minMs: Math.min(...stepsMs),
  };
}
