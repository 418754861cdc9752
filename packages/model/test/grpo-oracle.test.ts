// The GRPO loss against an independent oracle: tools/reference/grpo_loss_reference.py re-types TRL 1.x's
// GRPOTrainer._compute_loss in float64 torch on a tiny Llama with a LoRA adapter and records, for every
// loss_type x beta x importance_sampling_level x delta x top_entropy_quantile (and gradient-accumulation and
// num_items_in_batch variants), TRL's loss, its logged metrics and the gradient of every LoRA tensor.
// Regenerate with: /usr/bin/python3 tools/reference/grpo_loss_reference.py
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../src/loading/load-model.ts';
import { createLora } from '../src/lora/lora.ts';
import type { LinearModule } from '../src/lora/lora-config.ts';
import { Policy } from '../src/policy/policy.ts';
import type { ImportanceSamplingLevel, LossType } from '../src/training/grpo-loss.ts';
import { Trainer, type GrpoExample, type StepMetrics } from '../src/training/trainer.ts';

interface OracleCase {
  loss_type: LossType;
  beta: number;
  importance_sampling_level: ImportanceSamplingLevel;
  delta: number | null;
  top_entropy_quantile: number;
  micro_batch_size: number;
  generation_batch_tokens?: number;
  epsilon_high: number;
  loss: number;
  metrics: Record<string, number>;
  grads: Record<string, number[]>;
}

const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'grpo-loss.json'), 'utf8')) as {
  lora: { r: number; alpha: number; targetModules: LinearModule[]; tensors: Record<string, { shape: number[]; data: number[] }> };
  temperature: number;
  epsilon: number;
  max_completion_length: number;
  sapo_temperature_pos: number;
  sapo_temperature_neg: number;
  batch: GrpoExample[];
  cases: OracleCase[];
};

/** TRL metric name -> StepMetrics field */
const METRICS: Record<string, keyof StepMetrics> = {
  entropy: 'entropy',
  kl: 'kl',
  'clip_ratio/low_mean': 'clipRatioLowMean',
  'clip_ratio/low_min': 'clipRatioLowMin',
  'clip_ratio/high_mean': 'clipRatioHighMean',
  'clip_ratio/high_max': 'clipRatioHighMax',
  'clip_ratio/region_mean': 'clipRatioRegionMean',
  cispo_clip_ratio: 'cispoClipRatio',
};

let model: LoadedModel;
let policy: Policy;
beforeAll(async () => {
  model = await loadModel(path.join(FIXTURES, 'grpo-tiny'), { tokenizer: false });
  const { r, alpha, targetModules, tensors } = fixture.lora;
  const lora = createLora(model.config, { r, alpha, targetModules }, 0);
  for (const [name, w] of lora.weights) w.data.set(tensors[name].data);
  policy = new Policy(model, { lora });
});
afterAll(async () => policy?.release());

const caseName = (c: OracleCase) =>
  `${c.loss_type} beta=${c.beta} ${c.importance_sampling_level} delta=${c.delta ?? '-'} q=${c.top_entropy_quantile} mb=${c.micro_batch_size}` +
  (c.generation_batch_tokens ? ` num_items_in_batch=${c.generation_batch_tokens}` : '');

describe('GRPO loss, metrics and LoRA gradients equal the TRL oracle', () => {
  it('the fixture covers every loss type, both levels, delta, the entropy quantile and accumulation', () => {
    expect(new Set(fixture.cases.map((c) => c.loss_type))).toEqual(new Set(['grpo', 'bnpo', 'dr_grpo', 'dapo', 'cispo', 'sapo']));
    expect(fixture.cases.length).toBeGreaterThanOrEqual(80);
  });

  for (const c of fixture.cases) {
    it(caseName(c), async () => {
      const trainer = new Trainer(policy, {
        lr: 1e-3,
        temperature: fixture.temperature,
        microBatchSize: c.micro_batch_size,
        grpo: {
          lossType: c.loss_type,
          beta: c.beta,
          epsilonLow: fixture.epsilon,
          epsilonHigh: c.epsilon_high,
          delta: c.delta ?? undefined,
          importanceSamplingLevel: c.importance_sampling_level,
          topEntropyQuantile: c.top_entropy_quantile,
          maskTruncatedCompletions: true,
          maxCompletionLength: fixture.max_completion_length,
          sapoTemperaturePos: fixture.sapo_temperature_pos,
          sapoTemperatureNeg: fixture.sapo_temperature_neg,
        },
      });
      const got = await trainer.grpoGradients(fixture.batch, { generationBatchTokens: c.generation_batch_tokens });
      expect(Math.abs(got.loss - c.loss) / Math.abs(c.loss)).toBeLessThan(1e-5);
      for (const [trl, field] of Object.entries(METRICS)) {
        if (c.metrics[trl] === undefined) expect(got.metrics[field], field).toBeUndefined();
        else expect(got.metrics[field] as number, field).toBeCloseTo(c.metrics[trl], 5);
      }
      let worst = 0;
      for (const [name, want] of Object.entries(c.grads)) {
        const g = got.grads[name];
        expect(g, name).toBeDefined();
        const scale = Math.max(...want.map(Math.abs));
        const err = Math.max(...want.map((w, i) => Math.abs(g[i] - w)));
        worst = Math.max(worst, scale > 0 ? err / scale : err);
      }
      expect(worst).toBeLessThan(1e-4);
      if (process.env.GRPO_ORACLE_REPORT) console.log(caseName(c), "loss rel", (Math.abs(got.loss - c.loss) / Math.abs(c.loss)).toExponential(2), "grad", worst.toExponential(2));
    });
  }
});
