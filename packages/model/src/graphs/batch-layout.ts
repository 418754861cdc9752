// How a batch of (prompt, completion) token sequences is laid out in a static-shape graph: prompts are
// left-padded to Tp and completions right-padded to Tc, so every completion starts at column Tp and the LM head
// runs only on the Tc positions that predict completion tokens. Shapes are rounded up to length buckets so a
// cached session serves many batches.
import type { Feed } from '@ragrpo/graph';
import { MASKED } from './llama-graph.ts';
import { attends } from './attention-window.ts';

export interface SequencePair {
  promptIds: readonly number[];
  completionIds: readonly number[];
}

/** Rounds a length up to the bucket grid: multiples of `granularity` (at least one bucket). */
export function bucketLength(n: number, granularity: number): number {
  return Math.max(granularity, Math.ceil(n / granularity) * granularity);
}

export interface PackedBatch {
  batch: number;
  promptLen: number;
  completionLen: number;
  /** int64 [B, Tp+Tc] */
  inputIds: BigInt64Array;
  /** int64 [B, Tp+Tc] */
  positionIds: BigInt64Array;
  /** float [B, 1, T, T] */
  attentionBias: Float32Array;
  /** int64 [B, Tc]: the completion tokens (0 in padding) */
  targets: BigInt64Array;
  /** 1 where the completion token exists, 0 in padding: [B, Tc] */
  completionMask: Float32Array;
  /** per row: number of real completion tokens */
  completionLengths: number[];
}

/**
 * Packs sequences into [B, Tp+Tc]. `promptLen`/`completionLen` fix the padded sizes (callers bucket them);
 * rows beyond `pairs.length` up to `batch` are filler (one pad prompt token, no completion, zero mask).
 * `slidingWindow` is the model's (config.slidingWindow; null for full causal attention).
 */
export function packBatch(
  pairs: readonly SequencePair[],
  opts: { batch?: number; promptLen: number; completionLen: number; padId: number; slidingWindow: number | null },
): PackedBatch {
  const window = opts.slidingWindow;
  const B = opts.batch ?? pairs.length;
  const Tp = opts.promptLen;
  const Tc = opts.completionLen;
  const T = Tp + Tc;
  if (Tp < 1) throw new Error('every sequence needs at least one prompt token (the first completion token is predicted from it)');
  const inputIds = new BigInt64Array(B * T).fill(BigInt(opts.padId));
  const positionIds = new BigInt64Array(B * T);
  const attentionBias = new Float32Array(B * T * T).fill(MASKED);
  const targets = new BigInt64Array(B * Tc);
  const completionMask = new Float32Array(B * Tc);
  const completionLengths: number[] = [];
  const valid = new Uint8Array(T);
  for (let b = 0; b < B; b++) {
    const pair = pairs[b];
    const p = pair ? pair.promptIds : [];
    const c = pair ? pair.completionIds : [];
    if (pair && p.length < 1) throw new Error(`sequence ${b}: the prompt is empty; add at least one token (e.g. BOS)`);
    if (p.length > Tp) throw new Error(`sequence ${b}: prompt of ${p.length} tokens does not fit promptLen ${Tp}`);
    if (c.length > Tc) throw new Error(`sequence ${b}: completion of ${c.length} tokens does not fit completionLen ${Tc}`);
    valid.fill(0);
    for (let i = 0; i < p.length; i++) {
      inputIds[b * T + Tp - p.length + i] = BigInt(p[i]);
      valid[Tp - p.length + i] = 1;
    }
    for (let i = 0; i < c.length; i++) {
      inputIds[b * T + Tp + i] = BigInt(c[i]);
      valid[Tp + i] = 1;
      targets[b * Tc + i] = BigInt(c[i]);
      completionMask[b * Tc + i] = 1;
    }
    completionLengths.push(c.length);
    let pos = 0;
    for (let t = 0; t < T; t++) {
      positionIds[b * T + t] = BigInt(valid[t] ? pos : 0);
      if (valid[t]) pos++;
    }
    // causal (+ sliding window, by position) + padding: query t may see key s <= t when s is a real token;
    // a pad query sees only itself.
    for (let t = 0; t < T; t++) {
      const row = (b * T + t) * T;
      if (!valid[t]) {
        attentionBias[row + t] = 0;
        continue;
      }
      const qPos = Number(positionIds[b * T + t]);
      for (let s = 0; s <= t; s++) if (valid[s] && attends(window, qPos, Number(positionIds[b * T + s]))) attentionBias[row + s] = 0;
    }
  }
  return { batch: B, promptLen: Tp, completionLen: Tc, inputIds, positionIds, attentionBias, targets, completionMask, completionLengths };
}

/** The decoder feeds of a packed batch. */
export function packedFeeds(p: PackedBatch): Record<string, Feed> {
  const T = p.promptLen + p.completionLen;
  return {
    input_ids: { data: p.inputIds, dims: [p.batch, T] },
    position_ids: { data: p.positionIds, dims: [p.batch, T] },
    attention_bias: { data: p.attentionBias, dims: [p.batch, 1, T, T] },
    targets: { data: p.targets, dims: [p.batch, p.completionLen] },
  };
}
