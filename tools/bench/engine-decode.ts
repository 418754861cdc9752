// Decode throughput of @ragrpo/model's sampler on a small model: a group of G completions decoded as one batch
// after one shared prefill, versus G separate single-completion sample() calls (each with its own prefill), same
// prompt and max new tokens. EOS is disabled so every completion runs to maxNewTokens: equal work on both sides.
import { Policy, sample } from '@ragrpo/model';
import { mulberry32 } from '@ragrpo/config';
import { benchModel, parameterCount, type ModelDims } from './engine-models.ts';
import { median } from './engine-step.ts';

export interface DecodeResult {
  params: number;
  batchedMs: number;
  sequentialMs: number;
  batchedTokPerS: number;
  sequentialTokPerS: number;
  greedyBatchedMs: number;
  greedySequentialMs: number;
  tokens: number;
}

export async function decodeBench(o: { dims: ModelDims; group: number; promptLen: number; maxNewTokens: number; runs: number }): Promise<DecodeResult> {
  const model = benchModel(o.dims);
  const policy = new Policy(model, { threads: 2 });
  const rng = mulberry32(5);
  const prompt = Array.from({ length: o.promptLen }, () => 2 + Math.floor(rng() * (o.dims.vocab - 2)));
  const common = { maxNewTokens: o.maxNewTokens, temperature: 1, eosTokenIds: [] as number[] };
  const batched = async (temperature = 1) => {
    const out = await sample(policy, [prompt], { ...common, temperature, groupSize: o.group, seed: 1 });
    return out[0].reduce((n, c) => n + c.tokens.length, 0);
  };
  const sequential = async (temperature = 1) => {
    let n = 0;
    for (let i = 0; i < o.group; i++) n += (await sample(policy, [prompt], { ...common, temperature, groupSize: 1, seed: 1 + i }))[0][0].tokens.length;
    return n;
  };
  // warm-up: creates the prefill and decode sessions for both batch sizes
  const tokens = await batched();
  if ((await sequential()) !== tokens || tokens !== o.group * o.maxNewTokens) throw new Error('decode bench: completions stopped early');
  const tb: number[] = [];
  const ts: number[] = [];
  const tg: number[] = [];
  const tgs: number[] = [];
  for (let r = 0; r < o.runs; r++) {
    let t = performance.now();
    await batched();
    tb.push(performance.now() - t);
    t = performance.now();
    await sequential();
    ts.push(performance.now() - t);
    t = performance.now();
    await batched(0);
    tg.push(performance.now() - t);
    t = performance.now();
    await sequential(0);
    tgs.push(performance.now() - t);
  }
  await policy.release();
  const batchedMs = median(tb);
  const sequentialMs = median(ts);
  return {
    params: parameterCount(model),
    batchedMs,
    sequentialMs,
    batchedTokPerS: (tokens / batchedMs) * 1000,
    sequentialTokPerS: (tokens / sequentialMs) * 1000,
    greedyBatchedMs: median(tg),
    greedySequentialMs: median(tgs),
    tokens,
  };
}
