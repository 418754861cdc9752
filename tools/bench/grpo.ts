// `npm run bench -- grpo`: one GRPO step of grpo-train's shape (8 prompts x num_generations 8 x 64 new tokens,
// 256-token prompts) on a 4-layer d=256 model and on the 12-layer d=768 policy-size model (LoRA r=16), each in its
// own child process: sampling, scoring, reference log-probs, forward+backward and optimizer seconds, completion
// tokens/s and peak RSS. Targets (reported, never failing the run): batched sampling >= 4x the tokens/s of
// sequential single-completion decoding; the 12-layer LoRA forward+backward >= 65 % of the measured MatMul peak;
// the whole step within 1.3x the sum of its parts; the 12-layer LoRA step's peak RSS under 4 GB.
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { trainStepFlops } from './engine-flops.ts';
import { matmulPeak } from './engine-matmul.ts';
import { benchConfig, LARGE_DIMS, LORA_RANK, LORA_TARGETS, type ModelDims, type TrainMode } from './engine-models.ts';
import type { Metrics } from './report.ts';

const run = promisify(execFile);
const here = import.meta.dirname;
const SHAPE = { prompts: 8, generations: 8, newTokens: 64, promptLen: 256, beta: 0.04 };
const SMALL: ModelDims = { layers: 4, hidden: 256, heads: 4, intermediate: 768, vocab: 2048 };
const log = (m: string) => console.error(`[grpo] ${m}`);

interface ChildResult { sampling: number; scoring: number; logprobs: number; forwardBackward: number; optimizer: number; step: number; completionTokPerS: number; sequentialTokPerS: number; peakRssKb: number }

async function child(dims: ModelDims, mode: TrainMode, runs: number, microBatch: number): Promise<ChildResult> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(here, 'grpo-step-child.ts'), JSON.stringify({ dims, mode, runs, microBatch, ...SHAPE })], { cwd: path.resolve(here, '../..'), maxBuffer: 16 << 20 });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`grpo-step-child printed no RESULT line:\n${stdout}`);
  return JSON.parse(line.slice(7)) as ChildResult;
}

export async function grpoSuite(): Promise<Metrics> {
  const load = [os.loadavg()[0]];
  log('MatMul peak');
  const peak = await matmulPeak({ size: 1024, chain: 8, weightsAsInputs: false, threads: 2, warmup: 2, runs: 5 });
  const metrics: Metrics = { 'matmul.peak_gflops': { value: peak.gflops, unit: 'GFLOP/s' } };
  // RAGRPO_BENCH_QUICK=1 measures the small model only (the 12-layer step takes minutes on 2 cores).
  // Micro-batches of 8 sequences (grpo-train's per_device_train_batch_size default), 4 for the 12-layer model: its
  // activations for 8 x 320 tokens are ~2.3 GB on top of the 0.55 GB of weights and the sampler's KV cache.
  const all: [string, ModelDims, TrainMode, number, number][] = [['small_4l_d256', SMALL, 'full', 3, 8], ['large_12l_d768_lora', LARGE_DIMS, 'lora', 1, 4]];
  const variants = all.filter(([key]) => !process.env.RAGRPO_BENCH_QUICK || key.startsWith('small'));
  for (const [i, [key, dims, mode, runs, microBatch]] of variants.entries()) {
    log(`${i + 2}/${variants.length + 1} ${key}: one GRPO step (child process, micro-batches of ${microBatch})`);
    const r = await child(dims, mode, runs, microBatch);
    const parts = r.sampling + r.scoring + r.logprobs + r.forwardBackward + r.optimizer;
    const seq = SHAPE.promptLen + SHAPE.newTokens;
    const flops = trainStepFlops(benchConfig(dims), { batch: SHAPE.prompts * SHAPE.generations, seqLen: seq, mode, loraRank: LORA_RANK, loraTargets: LORA_TARGETS }).total;
    const fbGflops = flops / r.forwardBackward / 1e9;
    Object.assign(metrics, {
      [`${key}.sampling_s`]: { value: r.sampling, unit: 's' },
      [`${key}.scoring_s`]: { value: r.scoring, unit: 's' },
      [`${key}.ref_logprobs_s`]: { value: r.logprobs, unit: 's' },
      [`${key}.forward_backward_s`]: { value: r.forwardBackward, unit: 's' },
      [`${key}.optimizer_s`]: { value: r.optimizer, unit: 's', note: r.optimizer === 0 ? 'inside forward_backward (the trainer reports no split)' : '' },
      [`${key}.step_s`]: { value: r.step, unit: 's', note: `micro-batches of ${microBatch} sequences` },
      [`${key}.completion_tokens_per_s`]: { value: r.completionTokPerS, unit: 'tokens/s' },
      [`${key}.sequential_tokens_per_s`]: { value: r.sequentialTokPerS, unit: 'tokens/s', note: 'single-completion decodes, one after another' },
      [`${key}.peak_rss_gb`]: { value: r.peakRssKb / 1024 / 1024, unit: 'GB' },
      [`${key}.forward_backward_gflops`]: { value: fbGflops, unit: 'GFLOP/s', note: 'analytic MatMul FLOPs (engine-flops.ts)' },
      [`target.${key}.sampling_speedup`]: { value: r.completionTokPerS / r.sequentialTokPerS, unit: 'x', note: 'target >= 4' },
      [`target.${key}.step_over_parts`]: { value: r.step / parts, unit: 'x', note: 'target <= 1.3' },
    });
    if (key.startsWith('large')) {
      metrics['target.large.forward_backward_vs_peak'] = { value: fbGflops / peak.gflops, unit: 'fraction', note: 'target >= 0.65' };
      metrics['target.large.peak_rss_under_4gb'] = { value: r.peakRssKb / 1024 / 1024 < 4 ? 1 : 0, unit: 'met' };
    }
    load.push(os.loadavg()[0]);
  }
  metrics['host.loadavg_1m'] = { value: Math.max(...load), unit: '', note: 'highest 1-minute load average seen during the suite' };
  return metrics;
}
