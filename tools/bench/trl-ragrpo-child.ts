// ragrpo's side of `npm run bench -- trl`, in its own process (so its sessions are gone before TRL runs):
//   node --import tsx tools/bench/trl-ragrpo-child.ts request.json
// One GRPO step = @ragrpo/model's `sample` (one shared prefill per prompt, its G rows decoded together as one batch:
// the batched group sampler grpo-train uses through sampleCompletions) + Trainer.grpoStep (reference log-probs,
// forward + backward over micro-batches, gradient clipping, AdamW). No EOS: every completion has exactly
// max_completion_length tokens, as TRL's side (min_new_tokens). Prints `RESULT {json}` with the medians.
import { readFileSync } from 'node:fs';
import { loadLora, loadModel, Policy, sample, Trainer, type GrpoExample } from '@ragrpo/model';

export interface RagrpoStepRequest {
  model: string;
  adapter: string;
  promptIds: number[][];
  /** P*G, prompt-major (completion g of prompt p at p*G + g) */
  advantages: number[];
  generations: number;
  maxCompletionLength: number;
  temperature: number;
  beta: number;
  microBatch: number;
  learningRate: number;
  threads: number;
  steps: number;
  warmup: number;
}

export interface RagrpoStepResult {
  generation_s: number;
  training_s: number;
  step_s: number;
  generation_times_s: number[];
  training_times_s: number[];
  completion_tokens: number;
  threads: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const req = JSON.parse(readFileSync(process.argv[2], 'utf8')) as RagrpoStepRequest;
  const model = await loadModel(req.model, { tokenizer: false });
  const lora = loadLora(req.adapter, model.config);
  const policy = new Policy(model, { lora, threads: req.threads });
  const trainer = new Trainer(policy, {
    lr: req.learningRate, maxGradNorm: 1, temperature: req.temperature, microBatchSize: req.microBatch,
    grpo: { lossType: 'dapo', beta: req.beta, maxCompletionLength: req.maxCompletionLength },
  });
  const G = req.generations;
  const gen: number[] = [];
  const train: number[] = [];
  const tokens: number[] = [];
  for (let i = 0; i < req.warmup + req.steps; i++) {
    const t0 = performance.now();
    const groups = await sample(policy, req.promptIds, {
      maxNewTokens: req.maxCompletionLength, temperature: req.temperature, topK: 0, topP: 1, repetitionPenalty: 1, groupSize: G, seed: i, eosTokenIds: [],
    });
    const t1 = performance.now();
    const batch: GrpoExample[] = groups.flatMap((group, p) => group.map((c, g) => ({ promptIds: req.promptIds[p], completionIds: c.tokens, advantage: req.advantages[p * G + g] })));
    await trainer.grpoStep(batch);
    const t2 = performance.now();
    const n = batch.reduce((s, e) => s + e.completionIds.length, 0);
    if (i >= req.warmup) {
      gen.push((t1 - t0) / 1000);
      train.push((t2 - t1) / 1000);
      tokens.push(n);
    }
    console.error(`[ragrpo] step ${i + 1}/${req.warmup + req.steps}${i < req.warmup ? ' (warm-up)' : ''}: generation ${((t1 - t0) / 1000).toFixed(2)} s, training ${((t2 - t1) / 1000).toFixed(2)} s, ${n} completion tokens`);
  }
  await policy.release();
  const result: RagrpoStepResult = {
    generation_s: median(gen), training_s: median(train), step_s: median(gen.map((g, i) => g + train[i])),
    generation_times_s: gen, training_times_s: train, completion_tokens: median(tokens), threads: req.threads,
  };
  console.log('RESULT ' + JSON.stringify(result));
}

await main();
