// Picking the next token of one row from its logits (transformers' order: repetition penalty, temperature,
// top-k, top-p, min-p; argmax when the temperature is 0), or from probabilities the decode graph already
// computed (plain temperature sampling). Each pick draws exactly one uniform from the row's PRNG (none when
// greedy), so a seed reproduces the whole completion.
import type { Prng } from '../prng.ts';
import { nucleusCandidates, topKIndices } from './top-k.ts';

export interface ChooseOptions {
  temperature: number;
  topK: number;
  topP: number;
  minP?: number;
  penalty: number;
  seen: ReadonlySet<number>;
  rng: Prng;
}

/** max and sum(exp(x - max)) of logits / temperature, before any top-k/top-p cut: valid when no penalty was applied. */
export interface SoftmaxStats {
  valid: boolean;
  max: number;
  total: number;
}

/**
 * Applies the logit processors and picks a token. `scratch` (length V) receives the processed values.
 * O(V) when neither top-k nor top-p is set: no sort of the vocabulary. With top-k only the k best are kept
 * (a bounded heap); with top-p only tokens that can belong to the nucleus are sorted. `stats`, when given,
 * receives log_softmax's normaliser of logits / temperature (valid unless a penalty changed the logits).
 */
export function chooseToken(logits: Float32Array, scratch: Float64Array, o: ChooseOptions, stats?: SoftmaxStats): number {
  const V = logits.length;
  const x = scratch;
  if (stats) stats.valid = false;
  for (let i = 0; i < V; i++) x[i] = logits[i];
  if (o.penalty !== 1) for (const s of o.seen) x[s] = x[s] > 0 ? x[s] / o.penalty : x[s] * o.penalty;
  if (o.temperature === 0) return argMax(x, V);

  // exp(x / t - max): unnormalised probabilities (the most likely token gets exactly 1)
  const t = o.temperature;
  let max = -Infinity;
  for (let i = 0; i < V; i++) {
    const v = x[i] / t;
    x[i] = v;
    if (v > max) max = v;
  }
  let total = 0;
  for (let i = 0; i < V; i++) {
    const e = Math.exp(x[i] - max);
    x[i] = e;
    total += e;
  }
  if (stats && o.penalty === 1) {
    stats.valid = true;
    stats.max = max;
    stats.total = total;
  }

  const topK = o.topK > 0 && o.topK < V ? o.topK : 0;
  const minP = o.minP ?? 0;
  if (!topK && o.topP >= 1) {
    // min_p alone: the most likely token has 1, so the threshold is minP itself.
    if (minP > 0) {
      total = 0;
      for (let i = 0; i < V; i++) {
        if (x[i] < minP) x[i] = 0;
        total += x[i];
      }
    }
    return drawIndex(x, V, total, o.rng);
  }

  // Candidates best first; the nucleus is taken over what top-k kept, or over the whole distribution.
  let order = topK ? topKIndices(x, topK) : nucleusCandidates(x, total, o.topP);
  let mass = topK ? 0 : total;
  if (topK) for (const i of order) mass += x[i];
  if (o.topP < 1) {
    let cum = 0;
    let keep = 0;
    while (keep < order.length && cum < o.topP * mass) cum += x[order[keep++]];
    order = order.slice(0, Math.max(keep, 1));
    mass = cum || x[order[0]];
  }
  if (minP > 0) {
    // After top-k/top-p, as transformers orders its warpers; the best candidate always stays.
    const kept = order.filter((i, j) => j === 0 || x[i] >= minP);
    if (kept.length < order.length) {
      order = kept;
      mass = 0;
      for (const i of order) mass += x[i];
    }
  }
  let u = o.rng.next() * mass;
  for (const i of order) {
    u -= x[i];
    if (u < 0) return i;
  }
  return order[order.length - 1];
}

/** A token drawn from (unnormalised) probabilities: one uniform, inverse CDF in float64. */
export function sampleFromProbs(p: Float32Array, rng: Prng): number {
  let total = 0;
  for (let i = 0; i < p.length; i++) total += p[i];
  let u = rng.next() * total;
  let last = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] <= 0) continue;
    u -= p[i];
    last = i;
    if (u < 0) return i;
  }
  return last; // rounding left u >= 0: the last token with mass
}

/** log_softmax(logits / t)[token], in float64. */
export function logSoftmaxAt(logits: Float32Array, token: number, t: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] / t > max) max = logits[i] / t;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] / t - max);
  return logits[token] / t - max - Math.log(sum);
}

function argMax(x: Float64Array, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** Inverse CDF over x[0..n) with one uniform (the last id when rounding leaves mass over). */
function drawIndex(x: Float64Array, n: number, total: number, rng: Prng): number {
  let u = rng.next() * total;
  for (let i = 0; i < n; i++) {
    u -= x[i];
    if (u < 0) return i;
  }
  return n - 1;
}
