// One GRPO step of grpo-train's loop at a benchmark shape, in its own process (so the peak RSS is its own):
//   node --import tsx tools/bench/grpo-step-child.ts '{"dims": {...}, "mode": "lora", ...}'
// Prints `RESULT {json}`: seconds of sampling, scoring, reference log-probs, forward+backward, optimizer and the
// whole step (median of `runs` after one warm-up step), completion tokens/s, the sequential single-completion
// decode tokens/s of the same policy (the baseline of the batched-sampling target), and the peak RSS.
import { readFileSync } from 'node:fs';
import { mulberry32 } from '@ragrpo/config';
import { sample, Trainer, type GrpoExample } from '@ragrpo/model';
import { computeAdvantages } from '@ragrpo/reward';
import { benchModel, benchPolicy, type ModelDims, type TrainMode } from './engine-models.ts';
import { median } from './engine-step.ts';

interface Request { dims: ModelDims; mode: TrainMode; prompts: number; generations: number; newTokens: number; promptLen: number; runs: number; beta: number; microBatch: number }
const req = JSON.parse(process.argv[2]) as Request;
const model = benchModel(req.dims);
const policy = benchPolicy(model, req.mode);
const trainer = new Trainer(policy, { lr: 1e-5, microBatchSize: req.microBatch, grpo: { beta: req.beta, aggregation: 'dapo', maxCompletionLength: req.newTokens } });
const rng = mulberry32(11);
const prompts = Array.from({ length: req.prompts }, () => Array.from({ length: req.promptLen }, () => 2 + Math.floor(rng() * (req.dims.vocab - 2))));
// A verifiable reward that costs what a token-level reward costs: the share of even token ids.
const reward = (ids: number[]) => ids.filter((t) => t % 2 === 0).length / Math.max(ids.length, 1);

async function step(seed: number) {
  const t0 = performance.now();
  const groups = await sample(policy, prompts, { maxNewTokens: req.newTokens, temperature: 1, groupSize: req.generations, seed, eosTokenIds: [] });
  const t1 = performance.now();
  const flat = groups.flat();
  const adv = computeAdvantages([flat.map((c) => reward(c.tokens))], { groupSize: req.generations, scaleRewards: 'group', aggregation: 'sum_then_normalize' });
  const t2 = performance.now();
  const pairs = flat.map((c) => ({ promptIds: prompts[c.promptIndex], completionIds: c.tokens }));
  const ref = req.beta > 0 ? await policy.logprobs(pairs, { reference: true, batchSize: 8 }) : null;
  const t3 = performance.now();
  const examples: GrpoExample[] = pairs.map((p, i) => ({ ...p, advantage: adv.advantages[i], ...(ref ? { refLogprobs: ref[i] } : {}) }));
  const m = await trainer.grpoStep(examples);
  const t4 = performance.now();
  const timing = m.timing;
  return {
    sampling: (t1 - t0) / 1000, scoring: (t2 - t1) / 1000, logprobs: (t3 - t2) / 1000,
    forwardBackward: timing ? timing.forwardBackward / 1000 : (t4 - t3) / 1000, optimizer: timing ? timing.optimizer / 1000 : 0,
    step: (t4 - t0) / 1000, tokens: flat.reduce((n, c) => n + c.tokens.length, 0),
  };
}

await step(0); // warm-up: every session shape is built once
const runs: Awaited<ReturnType<typeof step>>[] = [];
for (let i = 1; i <= req.runs; i++) runs.push(await step(i));
// The baseline: single-completion decodes one after another (each with its own prefill), same tokens per completion.
const seqStart = performance.now();
let seqTokens = 0;
for (let i = 0; i < 4; i++) seqTokens += (await sample(policy, [prompts[0]], { maxNewTokens: req.newTokens, temperature: 1, groupSize: 1, seed: 100 + i, eosTokenIds: [] }))[0][0].tokens.length;
const sequentialTokPerS = seqTokens / ((performance.now() - seqStart) / 1000);
await policy.release();
const pick = (k: keyof (typeof runs)[number]) => median(runs.map((r) => r[k]));
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
console.log('RESULT ' + JSON.stringify({
  sampling: pick('sampling'), scoring: pick('scoring'), logprobs: pick('logprobs'), forwardBackward: pick('forwardBackward'), optimizer: pick('optimizer'),
  step: pick('step'), completionTokPerS: pick('tokens') / pick('sampling'), sequentialTokPerS, peakRssKb: hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS,
}));
