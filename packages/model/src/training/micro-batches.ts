// The forward/backward half of one optimizer step: the batch is cut into micro-batches of the training
// session's static batch size; each is packed (left-padded prompts, right-padded completions), fed the trained
// tensors, its rows of the loss inputs and fresh dropout masks, and run. The loss inputs already carry the
// full-batch normalisation, so the step's loss and gradient are plain sums over micro-batches.
import { GradAccumulator, type Feed } from '@ragrpo/graph';
import { packBatch, packedFeeds, type SequencePair } from '../graphs/batch-layout.ts';
import type { Policy } from '../policy/policy.ts';
import type { Prng } from '../prng.ts';
import { dropoutMasks, gradName } from './train-graph.ts';
import type { RunnableSession } from '@ragrpo/graph';

/** The static shape every micro-batch of a step is packed into. */
export interface StepLayout {
  /** rows per session run */
  microBatch: number;
  /** bucketed prompt / completion lengths Tp, Tc */
  promptLen: number;
  completionLen: number;
}

export function stepLayout(policy: Policy, batch: readonly SequencePair[], microBatch: number): StepLayout {
  return {
    microBatch,
    promptLen: policy.bucket(Math.max(...batch.map((e) => e.promptIds.length))),
    completionLen: policy.bucket(Math.max(1, ...batch.map((e) => e.completionIds.length))),
  };
}

/**
 * A loss input given for the whole batch, `width` values per row (Tc per token, 1 per sequence): each
 * micro-batch is fed its own rows, zeros in filler rows.
 */
export interface RowInput {
  data: Float32Array;
  width: number;
}

/** What the micro-batches of one step produced. */
export interface MicroBatchResult {
  /** sum of the micro-batch losses */
  loss: number;
  /** gradient sums per trained tensor (in the policy's parameter order) */
  grads: Record<string, Float32Array>;
  microBatches: number;
  /** per micro-batch: the batch rows it held and the extra outputs fetched for metrics */
  outputs: { rows: number[]; out: Record<string, Feed> }[];
  /** wall time of the session runs, ms */
  ms: number;
}

export class NonFiniteLoss extends Error {
  constructor(
    readonly loss: number,
    readonly microBatch: number,
  ) {
    super(`loss is ${loss} (micro-batch ${microBatch})`);
  }
}

export async function runMicroBatches(
  policy: Policy,
  session: RunnableSession,
  batch: readonly SequencePair[],
  layout: StepLayout,
  inputs: Readonly<Record<string, RowInput>>,
  opts: { dropoutRng: Prng | null; metricOutputs: readonly string[] },
): Promise<MicroBatchResult> {
  const { microBatch: mb, promptLen: Tp, completionLen: Tc } = layout;
  const names = [...policy.params.keys()];
  const acc = new GradAccumulator(Object.fromEntries([...policy.params].map(([n, w]) => [n, w.data.length])));
  const result: MicroBatchResult = { loss: 0, grads: acc.sum(), microBatches: 0, outputs: [], ms: 0 };
  const t0 = performance.now();
  for (let start = 0; start < batch.length; start += mb) {
    const rows = Array.from({ length: Math.min(mb, batch.length - start) }, (_, i) => start + i);
    const packed = packBatch(rows.map((r) => batch[r]), { batch: mb, promptLen: Tp, completionLen: Tc, padId: policy.padId(), slidingWindow: policy.config.slidingWindow });
    const feeds: Record<string, Feed> = { ...policy.paramFeeds(), ...packedFeeds(packed) };
    for (const [name, input] of Object.entries(inputs)) feeds[name] = rowSlice(input, start, rows.length, mb);
    if (opts.dropoutRng) Object.assign(feeds, dropoutMasks(policy, mb, Tp + Tc, opts.dropoutRng));
    policy.runs.train++;
    const out = await session.run(feeds);
    const loss = (out.loss.data as Float32Array)[0];
    if (!Number.isFinite(loss)) throw new NonFiniteLoss(loss, result.microBatches + 1);
    result.loss += loss;
    acc.add(Object.fromEntries(names.map((n) => [n, out[gradName(n)].data as Float32Array])));
    result.outputs.push({ rows, out: Object.fromEntries(opts.metricOutputs.filter((k) => out[k]).map((k) => [k, out[k]])) });
    result.microBatches++;
  }
  result.ms = performance.now() - t0;
  return result;
}

/** Rows [start, start + n) of a per-row input, as a feed of `batch` rows ([batch, width]; zeros after n). */
function rowSlice(input: RowInput, start: number, n: number, batch: number): Feed {
  const w = input.width;
  const data = new Float32Array(batch * w);
  data.set(input.data.subarray(start * w, (start + n) * w));
  return { data, dims: [batch, w] };
}
