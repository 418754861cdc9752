// Autoregressive sampling with a KV cache. All prompts are run through ONE prefill; each prompt's cache is then
// copied into G rows and the P*G completions are decoded together as one batch, one decode-graph run per token.
// Logit processing follows transformers' order: repetition penalty, temperature, top-k, top-p.
import { assertSequenceLength } from './model-config.ts';
import { MASKED } from './llama-graph.ts';
import { attends } from './attention-window.ts';
import type { Policy } from './policy.ts';
import { Prng } from './prng.ts';

export interface SamplingOptions {
  /** Upper bound on generated tokens per completion. */
  maxNewTokens: number;
  /** 0 = greedy (argmax). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined = off). */
  topK?: number;
  /** Nucleus sampling: keep the smallest set of tokens with probability mass >= topP (1 = off). */
  topP?: number;
  /** transformers' MinPLogitsWarper: drop tokens below minP x the most likely token's probability, after top-k/top-p (0 = off). */
  minP?: number;
  /** transformers' repetition penalty over prompt + generated tokens (1 = off). */
  repetitionPenalty?: number;
  /** Tokens that end a completion (kept as its last token). Default: the model's eos_token_id list. */
  eosTokenIds?: readonly number[];
  /** Strings that end a completion once its decoded text contains one; needs `decode`. */
  stopStrings?: readonly string[];
  /** Token ids -> text (the tokenizer's decode), for stop strings and `text`. */
  decode?: (ids: number[]) => string;
  /** Completions per prompt (GRPO's group size G). Default 1. */
  groupSize?: number;
  seed?: number;
  /** Observes the raw logits each row's token is chosen from (row = prompt * G + member, step = token index). */
  onLogits?: (row: number, step: number, logits: Float32Array) => void;
}

export type FinishReason = 'eos' | 'stop' | 'length';

export interface Completion {
  promptIndex: number;
  tokens: number[];
  /** log p(token) under log_softmax(logits / temperature) (temperature 1 when greedy), before top-k/top-p/penalty */
  logprobs: number[];
  finishReason: FinishReason;
  /** true when max new tokens was reached without EOS or a stop string */
  truncated: boolean;
  text?: string;
}

/** Returns completions grouped per prompt: result[p] holds the G completions of prompt p. */
export async function sample(policy: Policy, prompts: readonly (readonly number[])[], opts: SamplingOptions): Promise<Completion[][]> {
  const cfg = policy.config;
  const P = prompts.length;
  const G = opts.groupSize ?? 1;
  const maxNew = opts.maxNewTokens;
  const temperature = opts.temperature ?? 1;
  const topK = opts.topK ?? 0;
  const topP = opts.topP ?? 1;
  const penalty = opts.repetitionPenalty ?? 1;
  const minP = opts.minP ?? 0;
  const eos = new Set(opts.eosTokenIds ?? cfg.eosTokenIds);
  const stops = opts.stopStrings ?? [];
  if (P === 0) return [];
  if (!Number.isInteger(maxNew) || maxNew < 1) throw new Error(`maxNewTokens must be a positive integer, got ${maxNew}`);
  if (!Number.isInteger(G) || G < 1) throw new Error(`groupSize must be a positive integer, got ${G}`);
  if (!(temperature >= 0)) throw new Error(`temperature must be >= 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`topP must be in (0, 1], got ${topP}`);
  if (!(minP >= 0 && minP <= 1)) throw new Error(`minP must be in [0, 1], got ${minP}`);
  if (!(penalty > 0)) throw new Error(`repetitionPenalty must be > 0, got ${penalty}`);
  if (stops.length > 0 && !opts.decode) throw new Error('stopStrings need a decode function (pass the tokenizer decode)');
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`prompt ${i} is empty; add at least one token (e.g. BOS)`);
    try {
      assertSequenceLength(cfg, p.length + maxNew);
    } catch (e) {
      throw new Error(`prompt ${i} (${p.length} tokens) + maxNewTokens ${maxNew}: ${(e as Error).message}`);
    }
    policy.checkIds(p);
  });

  const pre = await policy.prefill(prompts);
  const Tp = pre.promptLen;
  const N = P * G;
  const S = policy.bucket(Tp + maxNew);
  const KV = cfg.numKvHeads;
  const hd = cfg.headDim;
  const V = cfg.vocabSize;
  const L = cfg.numLayers;

  // KV cache [N, KV, S, hd] per layer: prompt p's slots copied into its G rows.
  const rowStride = KV * S * hd;
  const keys = Array.from({ length: L }, () => new Float32Array(N * rowStride));
  const values = Array.from({ length: L }, () => new Float32Array(N * rowStride));
  for (let l = 0; l < L; l++) {
    for (let p = 0; p < P; p++) {
      for (let h = 0; h < KV; h++) {
        const src = (p * KV + h) * Tp * hd;
        for (let gi = 0; gi < G; gi++) {
          const dst = (p * G + gi) * rowStride + h * S * hd;
          keys[l].set(pre.keys[l].subarray(src, src + Tp * hd), dst);
          values[l].set(pre.values[l].subarray(src, src + Tp * hd), dst);
        }
      }
    }
  }
  // Decode feeds, reused every step. Attention bias [N, 1, 1, S + 1]: each row's real prompt slots, the slots
  // filled so far, and the new token (last column) are open; left padding and unfilled slots are masked.
  const inputIds = new BigInt64Array(N);
  const positionIds = new BigInt64Array(N);
  const bias = new Float32Array(N * (S + 1)).fill(MASKED);
  for (let r = 0; r < N; r++) {
    const len = prompts[Math.floor(r / G)].length;
    // prompt positions the first new token (position len) still sees
    for (let s = Tp - len; s < Tp; s++) if (attends(cfg.slidingWindow, len, s - (Tp - len))) bias[r * (S + 1) + s] = 0;
    bias[r * (S + 1) + S] = 0;
  }

  const rng = new Prng(opts.seed ?? 0);
  const rows = Array.from({ length: N }, (_, r) => ({
    promptIndex: Math.floor(r / G),
    tokens: [] as number[],
    logprobs: [] as number[],
    finish: null as FinishReason | null,
    seen: new Set<number>(prompts[Math.floor(r / G)]),
  }));
  // Plain temperature sampling reads the decode graph's softmax (see buildDecodeStep) from the second token on;
  // the logit processors (penalty, top-k, top-p) and onLogits work on logits in JS.
  const graphProbs = temperature > 0 && penalty === 1 && (topK <= 0 || topK >= V) && topP >= 1 && minP === 0 && !opts.onLogits;
  let probs: Float32Array | null = null;
  let logits: Float32Array = new Float32Array(N * V);
  for (let r = 0; r < N; r++) logits.set(pre.logits.subarray(rows[r].promptIndex * V, (rows[r].promptIndex + 1) * V), r * V);

  const window = cfg.slidingWindow;
  const scratch = new Float64Array(V);
  const norm: SoftmaxStats = { valid: false, max: 0, total: 0 };
  for (let step = 0; step < maxNew; step++) {
    for (let r = 0; r < N; r++) {
      const row = rows[r];
      if (row.finish) continue;
      let token: number;
      if (probs) {
        const p = probs.subarray(r * V, (r + 1) * V);
        token = sampleFromProbs(p, rng);
        row.logprobs.push(Math.log(p[token]));
      } else {
        const lg = logits.subarray(r * V, (r + 1) * V);
        opts.onLogits?.(r, step, lg);
        token = chooseToken(lg, scratch, { temperature, topK, topP, minP, penalty, seen: row.seen, rng }, norm);
        // chooseToken's softmax statistics are log_softmax's own (same values, same order) when it saw the raw logits
        row.logprobs.push(norm.valid ? lg[token] / temperature - norm.max - Math.log(norm.total) : logSoftmaxAt(lg, token, temperature > 0 ? temperature : 1));
      }
      row.tokens.push(token);
      row.seen.add(token);
      if (eos.has(token)) row.finish = 'eos';
      else if (stops.length > 0 && stops.some((s) => opts.decode!(row.tokens).includes(s))) row.finish = 'stop';
      else if (row.tokens.length >= maxNew) row.finish = 'length';
    }
    if (rows.every((r) => r.finish)) break;

    // Feed each row's newest token; finished rows feed their last token again and are ignored.
    // The feed arrays are reused (each run is awaited before they change); the bias follows `valid`.
    const slot = Tp + step;
    for (let r = 0; r < N; r++) {
      const row = rows[r];
      const len = prompts[row.promptIndex].length;
      inputIds[r] = BigInt(row.tokens[row.tokens.length - 1]);
      positionIds[r] = BigInt(len + step);
      // Sliding window: the key `window` positions behind the new token leaves it (prompt positions sit in slots
      // Tp-len.., generated ones from slot Tp on).
      const gone = window === null ? -1 : len + step - window;
      if (gone >= 0) bias[r * (S + 1) + (gone < len ? Tp - len + gone : Tp + gone - len)] = MASKED;
    }
    const out = await policy.decodeStep({
      batch: N,
      capacity: S,
      inputIds,
      positionIds,
      attentionBias: bias,
      pastKeys: keys,
      pastValues: values,
      temperature: graphProbs ? temperature : undefined,
    });
    for (let l = 0; l < L; l++) {
      for (let r = 0; r < N; r++) {
        for (let h = 0; h < KV; h++) {
          const src = (r * KV + h) * hd;
          const dst = r * rowStride + (h * S + slot) * hd;
          keys[l].set(out.keys[l].subarray(src, src + hd), dst);
          values[l].set(out.values[l].subarray(src, src + hd), dst);
        }
      }
    }
    for (let r = 0; r < N; r++) bias[r * (S + 1) + slot] = 0;
    if (out.probs) probs = out.probs;
    else logits = out.logits!;
  }

  const result: Completion[][] = Array.from({ length: P }, () => []);
  for (const row of rows) {
    const finishReason = row.finish ?? 'length';
    const c: Completion = {
      promptIndex: row.promptIndex,
      tokens: row.tokens,
      logprobs: row.logprobs,
      finishReason,
      truncated: finishReason === 'length',
    };
    if (opts.decode) c.text = opts.decode(row.tokens);
    result[row.promptIndex].push(c);
  }
  return result;
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

/** max and sum(exp(x - max)) of logits / temperature, before any top-k/top-p cut: valid when no penalty was applied. */
export interface SoftmaxStats {
  valid: boolean;
  max: number;
  total: number;
}

interface ChooseOptions {
  temperature: number;
  topK: number;
  topP: number;
  minP?: number;
  penalty: number;
  seen: ReadonlySet<number>;
  rng: Prng;
}

/**
 * Applies the logit processors and picks a token (argmax when temperature is 0).
 * O(V) when neither top-k nor top-p is set: no sort of the vocabulary, which at 32k tokens would
 * cost more per token than the decode step itself. With top-k only the k best are kept (a
 * bounded heap); with top-p only tokens that can belong to the nucleus are sorted.
 */
export function chooseToken(logits: Float32Array, scratch: Float64Array, o: ChooseOptions, stats?: SoftmaxStats): number {
  const V = logits.length;
  const x = scratch;
  if (stats) stats.valid = false;
  if (o.temperature === 0) {
    for (let i = 0; i < V; i++) x[i] = logits[i];
    if (o.penalty !== 1) {
      for (const t of o.seen) x[t] = x[t] > 0 ? x[t] / o.penalty : x[t] * o.penalty;
    }
    let best = 0;
    for (let i = 1; i < V; i++) if (x[i] > x[best]) best = i;
    return best;
  }
  const t = o.temperature;
  let max = -Infinity;
  if (o.penalty !== 1) {
    for (let i = 0; i < V; i++) x[i] = logits[i];
    for (const s of o.seen) x[s] = x[s] > 0 ? x[s] / o.penalty : x[s] * o.penalty;
    for (let i = 0; i < V; i++) {
      x[i] /= t;
      if (x[i] > max) max = x[i];
    }
  } else if (t === 1) {
    for (let i = 0; i < V; i++) {
      const v = logits[i];
      x[i] = v;
      if (v > max) max = v;
    }
  } else {
    for (let i = 0; i < V; i++) {
      const v = logits[i] / t;
      x[i] = v;
      if (v > max) max = v;
    }
  }
  let total = 0;
  for (let i = 0; i < V; i++) {
    const e = Math.exp(x[i] - max); // unnormalised probabilities from here on
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
  if (!topK && o.topP >= 1 && minP > 0) {
    // x holds exp(logit/t - max): the most likely token has 1, so min_p's threshold is minP itself.
    total = 0;
    for (let i = 0; i < V; i++) {
      if (x[i] < minP) x[i] = 0;
      total += x[i];
    }
  }
  if (!topK && o.topP >= 1) {
    let u = o.rng.next() * total;
    for (let i = 0; i < V; i++) {
      u -= x[i];
      if (u < 0) return i;
    }
    return V - 1;
  }
  // Candidates best first (ties by id, for determinism).
  let order = topK ? topKIndices(x, topK) : nucleusCandidates(x, total, o.topP);
  // The nucleus is taken over what top-k kept, or over the whole distribution.
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

const better = (p: Float64Array, a: number, b: number) => p[a] > p[b] || (p[a] === p[b] && a < b);

/** The k most probable ids, best first, with a bounded min-heap (O(V log k)). */
function topKIndices(p: Float64Array, k: number): number[] {
  const heap: number[] = []; // heap[0] is the worst kept candidate
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < heap.length && better(p, heap[w], heap[l])) w = l;
      if (r < heap.length && better(p, heap[w], heap[r])) w = r;
      if (w === i) return;
      [heap[i], heap[w]] = [heap[w], heap[i]];
      i = w;
    }
  };
  for (let id = 0; id < p.length; id++) {
    if (heap.length < k) {
      heap.push(id);
      for (let i = heap.length - 1; i > 0; ) {
        const up = (i - 1) >> 1;
        if (!better(p, heap[up], heap[i])) break;
        [heap[i], heap[up]] = [heap[up], heap[i]];
        i = up;
      }
    } else if (better(p, id, heap[0])) {
      heap[0] = id;
      down(0);
    }
  }
  return heap.sort((a, b) => (better(p, a, b) ? -1 : 1));
}

/**
 * Ids that can be in the top-p nucleus, best first. Tokens each below (1 - p) / V of the mass
 * together hold at most 1 - p of it, so the nucleus never needs them: only the rest is sorted.
 */
function nucleusCandidates(p: Float64Array, total: number, topP: number): number[] {
  const floor = ((1 - topP) * total) / p.length;
  const ids: number[] = [];
  for (let i = 0; i < p.length; i++) if (p[i] >= floor) ids.push(i);
  return ids.sort((a, b) => (better(p, a, b) ? -1 : 1));
}
