// Autoregressive sampling with a KV cache. All prompts run through ONE prefill; each prompt's cache is then
// copied into its G rows and the P*G completions are decoded together as one batch, one decode-graph run per
// token. Logit processing follows transformers' order: repetition penalty, temperature, top-k, top-p, min-p.
//
//   prefill -> KvCache.fromPrefill, DecodeBias     (kv-cache.ts, decode-bias.ts)
//   repeat: pick each unfinished row's token       (choose-token.ts)
//           feed the tokens, write their keys/values into the cache, open their slots
import { assertSequenceLength, type ModelConfig } from '../loading/model-config.ts';
import type { Policy } from '../policy/policy.ts';
import { Prng } from '../prng.ts';
import { chooseToken, logSoftmaxAt, sampleFromProbs, type SoftmaxStats } from './choose-token.ts';
import { DecodeBias } from './decode-bias.ts';
import { KvCache } from './kv-cache.ts';

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
  const o = resolveOptions(cfg, opts);
  const P = prompts.length;
  if (P === 0) return [];
  checkRequest(policy, prompts, o);
  const G = o.groupSize;
  const N = P * G;
  const V = cfg.vocabSize;
  const rows = Array.from({ length: N }, (_, r) => newRow(prompts, Math.floor(r / G)));
  const rng = new Prng(opts.seed ?? 0);

  const pre = await policy.prefill(prompts);
  const Tp = pre.promptLen;
  const S = policy.bucket(Tp + o.maxNewTokens);
  const cache = KvCache.fromPrefill(cfg, pre, P, G, S);
  const bias = new DecodeBias(rows.map((row) => row.promptLen), Tp, S, cfg.slidingWindow);
  // Decode feeds, reused every step (each run is awaited before they change).
  const inputIds = new BigInt64Array(N);
  const positionIds = new BigInt64Array(N);

  // What the next tokens are chosen from: the prefill's logits first (one row per prompt, repeated for its
  // group), then each decode step's logits, or its softmax for plain temperature sampling (see buildDecodeStep).
  let logits: Float32Array = new Float32Array(N * V);
  for (let r = 0; r < N; r++) logits.set(pre.logits.subarray(rows[r].promptIndex * V, (rows[r].promptIndex + 1) * V), r * V);
  let probs: Float32Array | null = null;
  const pick = new TokenPicker(o, V, rng);

  for (let step = 0; step < o.maxNewTokens; step++) {
    for (let r = 0; r < N; r++) {
      const row = rows[r];
      if (row.finish) continue;
      const { token, logprob } = probs ? pick.fromProbs(probs.subarray(r * V, (r + 1) * V)) : pick.fromLogits(logits.subarray(r * V, (r + 1) * V), row.seen, r, step);
      row.tokens.push(token);
      row.logprobs.push(logprob);
      row.seen.add(token);
      row.finish = finishReason(row.tokens, token, o);
    }
    if (rows.every((r) => r.finish)) break;

    // Feed each row's newest token; finished rows feed their last token again and are ignored.
    for (let r = 0; r < N; r++) {
      const row = rows[r];
      inputIds[r] = BigInt(row.tokens[row.tokens.length - 1]);
      positionIds[r] = BigInt(row.promptLen + step);
      bias.slide(r, step);
    }
    const out = await policy.decodeStep({
      batch: N,
      capacity: S,
      inputIds,
      positionIds,
      attentionBias: bias.data,
      pastKeys: cache.keys,
      pastValues: cache.values,
      temperature: pick.graphProbs ? o.temperature : undefined,
    });
    const slot = Tp + step;
    cache.write(out, slot);
    bias.open(slot);
    if (out.probs) probs = out.probs;
    else logits = out.logits!;
  }
  return groupCompletions(rows, P, opts.decode);
}

interface ResolvedOptions {
  maxNewTokens: number;
  groupSize: number;
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  penalty: number;
  eos: ReadonlySet<number>;
  stops: readonly string[];
  decode?: (ids: number[]) => string;
  onLogits?: SamplingOptions['onLogits'];
}

function resolveOptions(cfg: ModelConfig, opts: SamplingOptions): ResolvedOptions {
  return {
    maxNewTokens: opts.maxNewTokens,
    groupSize: opts.groupSize ?? 1,
    temperature: opts.temperature ?? 1,
    topK: opts.topK ?? 0,
    topP: opts.topP ?? 1,
    minP: opts.minP ?? 0,
    penalty: opts.repetitionPenalty ?? 1,
    eos: new Set(opts.eosTokenIds ?? cfg.eosTokenIds),
    stops: opts.stopStrings ?? [],
    decode: opts.decode,
    onLogits: opts.onLogits,
  };
}

/** Refuses bad options and prompts that are empty, too long for the model, or hold ids outside the vocabulary. */
function checkRequest(policy: Policy, prompts: readonly (readonly number[])[], o: ResolvedOptions): void {
  const { maxNewTokens: maxNew, groupSize: G, temperature, topP, minP, penalty } = o;
  if (!Number.isInteger(maxNew) || maxNew < 1) throw new Error(`maxNewTokens must be a positive integer, got ${maxNew}`);
  if (!Number.isInteger(G) || G < 1) throw new Error(`groupSize must be a positive integer, got ${G}`);
  if (!(temperature >= 0)) throw new Error(`temperature must be >= 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`topP must be in (0, 1], got ${topP}`);
  if (!(minP >= 0 && minP <= 1)) throw new Error(`minP must be in [0, 1], got ${minP}`);
  if (!(penalty > 0)) throw new Error(`repetitionPenalty must be > 0, got ${penalty}`);
  if (o.stops.length > 0 && !o.decode) throw new Error('stopStrings need a decode function (pass the tokenizer decode)');
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`prompt ${i} is empty; add at least one token (e.g. BOS)`);
    try {
      assertSequenceLength(policy.config, p.length + maxNew);
    } catch (e) {
      throw new Error(`prompt ${i} (${p.length} tokens) + maxNewTokens ${maxNew}: ${(e as Error).message}`);
    }
    policy.checkIds(p);
  });
}

/** One completion being decoded. */
interface Row {
  promptIndex: number;
  promptLen: number;
  tokens: number[];
  logprobs: number[];
  finish: FinishReason | null;
  /** prompt + generated ids, for the repetition penalty */
  seen: Set<number>;
}

function newRow(prompts: readonly (readonly number[])[], p: number): Row {
  return { promptIndex: p, promptLen: prompts[p].length, tokens: [], logprobs: [], finish: null, seen: new Set<number>(prompts[p]) };
}

/** EOS (kept as the last token), a stop string in the decoded text, or the length limit; null to go on. */
function finishReason(tokens: number[], token: number, o: ResolvedOptions): FinishReason | null {
  if (o.eos.has(token)) return 'eos';
  if (o.stops.length > 0 && o.stops.some((s) => o.decode!(tokens).includes(s))) return 'stop';
  if (tokens.length >= o.maxNewTokens) return 'length';
  return null;
}

/**
 * Chooses tokens and reports log_softmax(logits / temperature) of each (temperature 1 when greedy): from the
 * decode graph's probabilities when plain temperature sampling allows (no penalty, top-k, top-p, min-p or
 * onLogits), otherwise from logits through the logit processors.
 */
class TokenPicker {
  readonly graphProbs: boolean;
  private readonly scratch: Float64Array;
  private readonly norm: SoftmaxStats = { valid: false, max: 0, total: 0 };

  constructor(
    private readonly o: ResolvedOptions,
    V: number,
    private readonly rng: Prng,
  ) {
    this.graphProbs = o.temperature > 0 && o.penalty === 1 && (o.topK <= 0 || o.topK >= V) && o.topP >= 1 && o.minP === 0 && !o.onLogits;
    this.scratch = new Float64Array(V);
  }

  fromProbs(p: Float32Array): { token: number; logprob: number } {
    const token = sampleFromProbs(p, this.rng);
    return { token, logprob: Math.log(p[token]) };
  }

  fromLogits(lg: Float32Array, seen: ReadonlySet<number>, row: number, step: number): { token: number; logprob: number } {
    const o = this.o;
    o.onLogits?.(row, step, lg);
    const token = chooseToken(lg, this.scratch, { temperature: o.temperature, topK: o.topK, topP: o.topP, minP: o.minP, penalty: o.penalty, seen, rng: this.rng }, this.norm);
    // chooseToken's softmax statistics are log_softmax's own (same values, same order) when it saw the raw logits
    const n = this.norm;
    const logprob = n.valid ? lg[token] / o.temperature - n.max - Math.log(n.total) : logSoftmaxAt(lg, token, o.temperature > 0 ? o.temperature : 1);
    return { token, logprob };
  }
}

function groupCompletions(rows: readonly Row[], prompts: number, decode?: (ids: number[]) => string): Completion[][] {
  const result: Completion[][] = Array.from({ length: prompts }, () => []);
  for (const row of rows) {
    const finishReason = row.finish ?? 'length';
    const c: Completion = {
      promptIndex: row.promptIndex,
      tokens: row.tokens,
      logprobs: row.logprobs,
      finishReason,
      truncated: finishReason === 'length',
    };
    if (decode) c.text = decode(row.tokens);
    result[row.promptIndex].push(c);
  }
  return result;
}
