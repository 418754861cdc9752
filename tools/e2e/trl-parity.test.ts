import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildScratchModelSync, createLora, loadLora, loadModel, Policy, Prng, saveLora, Trainer, type GrpoExample, type LossType } from '@ragrpo/model';
import { computeAdvantages, type MultiObjectiveAggregation, type ScaleRewards } from '@ragrpo/reward';
import { root } from './stage-cli.ts';

// Parity with TRL's GRPOTrainer itself (tools/reference/trl_parity.py calls the trainer's _compute_loss and
// _generate_and_score_completions; nothing of TRL is re-typed): for one fixed batch on a tiny Llama with a LoRA
// adapter, the loss of every loss_type, with and without beta, token and sequence level, within 1e-5 relative
// and the LoRA gradients within 1e-4; and the advantages of every scale_rewards x multi_objective_aggregation.
const TRL_PYTHON = process.env.RAGRPO_TRL_PYTHON ?? path.join(root, 'tools', 'reference', '.venv-trl', 'bin', 'python');
const haveTrl = existsSync(TRL_PYTHON);
if (!haveTrl) console.log('trl-parity: SKIPPED (no tools/reference/.venv-trl: run tools/reference/setup_trl_venv.sh)');
const report = (s: string) => { if (process.env.TRL_PARITY_REPORT !== '0') console.log(s); };

const LOSS_TYPES: LossType[] = ['grpo', 'bnpo', 'dr_grpo', 'dapo'];
const CASES = LOSS_TYPES.flatMap((loss_type) => [0, 0.04].flatMap((beta) => (['token', 'sequence'] as const).map((level) => ({ loss_type, beta, importance_sampling_level: level }))));
const SETTINGS = { temperature: 0.9, epsilon: 0.2, epsilon_high: 0.28, max_completion_length: 8, num_generations: 4 };

function trlRun(args: string[]): any {
  const r = spawnSync(TRL_PYTHON, [path.join(root, 'tools', 'reference', 'trl_parity.py'), ...args], {
    encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, TOKENIZERS_PARALLELISM: 'false', HF_HUB_OFFLINE: '1' },
  });
  if (r.status !== 0) throw new Error(`trl_parity.py ${args[0]} failed: ${r.stderr.slice(-3000)}`);
  return JSON.parse(r.stdout);
}

describe.skipIf(!haveTrl)('parity with TRL\'s GRPOTrainer', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ragrpo-trl-parity-'));
  const modelDir = path.join(tmp, 'model');
  const adapterDir = path.join(tmp, 'adapter');
  let batch: GrpoExample[];
  let trl: { cases: (typeof CASES[number] & { loss: number; grads: Record<string, number[]> })[]; old_logprobs: number[][]; ref_logprobs: number[][] };
  let policy: Policy;
  const worst = { loss: 0, grad: 0 };

  beforeAll(async () => {
    buildScratchModelSync({
      out: modelDir, arch: 'llama', seed: 3, layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 64, maxPositions: 64, vocabSize: 300,
      corpus: Array.from({ length: 40 }, (_, i) => `wine ${i} costs ${i * 3} dollars and scores ${80 + (i % 20)} points`),
    });
    const model = await loadModel(modelDir, { tokenizer: false });
    // a trained-looking adapter: B is zero in a fresh one, which would leave A without gradient
    const lora = createLora(model.config, { r: 4, alpha: 8, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }, 5);
    const rng = new Prng(11);
    for (const [name, w] of lora.weights) if (name.includes('lora_B')) for (let i = 0; i < w.data.length; i++) w.data[i] = rng.uniform(-0.1, 0.1);
    saveLora(adapterDir, lora);
    policy = new Policy(model, { lora: loadLora(adapterDir, model.config) });

    // two prompts of one length (TRL left-pads shorter prompts, which shifts their positions), four completions each
    const V = model.config.vocabSize;
    const prompts = [0, 1].map(() => Array.from({ length: 6 }, () => 5 + Math.floor(rng.next() * (V - 5))));
    const lengths = [3, 8, 5, 6, 7, 4, 8, 2];
    batch = lengths.map((len, i) => ({
      promptIds: prompts[Math.floor(i / 4)],
      completionIds: Array.from({ length: len }, () => 5 + Math.floor(rng.next() * (V - 5))),
      advantage: Math.round((rng.next() * 3 - 1.2) * 1000) / 1000,
    }));
    const file = path.join(tmp, 'batch.json');
    writeFileSync(file, JSON.stringify({
      ...SETTINGS, seed: 0, old_noise: 0.3, ref_noise: 0.5, cases: CASES,
      prompt_ids: batch.map((e) => e.promptIds), completion_ids: batch.map((e) => e.completionIds), advantages: batch.map((e) => e.advantage),
    }));
    trl = trlRun(['loss', '--model', modelDir, '--adapter', adapterDir, '--batch', file]);
    batch = batch.map((e, i) => ({ ...e, oldLogprobs: trl.old_logprobs[i], refLogprobs: trl.ref_logprobs[i] }));
  }, 600_000);
  afterAll(async () => {
    await policy?.release();
    rmSync(tmp, { recursive: true, force: true });
    if (worst.loss > 0) report(`trl-parity: worst loss relative error ${worst.loss.toExponential(2)}, worst LoRA gradient error ${worst.grad.toExponential(2)} (of the tensor's largest entry) over ${CASES.length} cases`);
  });

  for (const c of CASES) {
    it(`loss and LoRA gradients: loss_type ${c.loss_type}, beta ${c.beta}, importance_sampling_level ${c.importance_sampling_level}`, async () => {
      const want = trl.cases.find((t) => t.loss_type === c.loss_type && t.beta === c.beta && t.importance_sampling_level === c.importance_sampling_level)!;
      const trainer = new Trainer(policy, {
        lr: 1e-3, temperature: SETTINGS.temperature,
        grpo: {
          lossType: c.loss_type, beta: c.beta, epsilonLow: SETTINGS.epsilon, epsilonHigh: SETTINGS.epsilon_high,
          importanceSamplingLevel: c.importance_sampling_level, maxCompletionLength: SETTINGS.max_completion_length,
        },
      });
      const got = await trainer.grpoGradients(batch);
      const lossErr = Math.abs(got.loss - want.loss) / Math.abs(want.loss);
      let gradErr = 0;
      expect(Object.keys(got.grads).sort()).toEqual(Object.keys(want.grads).sort());
      for (const [name, w] of Object.entries(want.grads)) {
        const g = got.grads[name];
        const scale = Math.max(...w.map(Math.abs));
        expect(scale, name).toBeGreaterThan(0);
        gradErr = Math.max(gradErr, Math.max(...w.map((v, i) => Math.abs(g[i] - v))) / scale);
      }
      worst.loss = Math.max(worst.loss, lossErr);
      worst.grad = Math.max(worst.grad, gradErr);
      report(`trl-parity: ${c.loss_type.padEnd(7)} beta ${String(c.beta).padEnd(4)} ${c.importance_sampling_level.padEnd(8)} loss ragrpo ${got.loss.toPrecision(8)} TRL ${want.loss.toPrecision(8)} rel ${lossErr.toExponential(2)}, grads ${gradErr.toExponential(2)}`);
      expect(lossErr).toBeLessThan(1e-5);
      expect(gradErr).toBeLessThan(1e-4);
    });
  }

  it('advantages: the same rewards give TRL\'s advantages for every scale_rewards and multi_objective_aggregation', () => {
    // 3 rewards x 4 groups of 4: nulls, a completion no reward scores, a group whose sums all agree, a group with one scorable completion
    const N = null;
    const rewards: (number | null)[][] = [
      [0.2, 0.9, 0.4, 0.4, 1, 1, 1, 1, N, N, N, 0.3, 0.1, 0.7, 0.7, 0.2],
      [1, 0, N, 1, 0.5, 0.5, 0.5, 0.5, N, N, N, 1, 0, 0, 1, 1],
      [0.05, 0.3, N, 0.9, 0, 0, 0, 0, N, N, N, 0.5, 0.3, 0.2, 0.9, 0.4],
    ];
    const weights = [1, 0.5, 0.25];
    const cases = (['group', 'batch', 'none'] as ScaleRewards[]).flatMap((scale_rewards) =>
      (['sum_then_normalize', 'normalize_then_sum'] as MultiObjectiveAggregation[]).map((multi_objective_aggregation) => ({ scale_rewards, multi_objective_aggregation })));
    const file = path.join(tmp, 'rewards.json');
    writeFileSync(file, JSON.stringify({ rewards, weights, num_generations: 4, cases }));
    const out = trlRun(['advantages', '--model', modelDir, '--rewards', file]) as { cases: (typeof cases[number] & { advantages: number[]; metrics: Record<string, number> })[] };
    let worstAdv = 0;
    for (const c of out.cases) {
      const got = computeAdvantages(rewards, { groupSize: 4, weights, scaleRewards: c.scale_rewards, aggregation: c.multi_objective_aggregation });
      const err = Math.max(...c.advantages.map((a, i) => Math.abs(a - got.advantages[i]) / Math.max(1, Math.abs(a))));
      worstAdv = Math.max(worstAdv, err);
      expect(err, `${c.scale_rewards} ${c.multi_objective_aggregation}: TRL ${c.advantages.map((a) => a.toFixed(4))} ragrpo ${got.advantages.map((a) => a.toFixed(4))}`).toBeLessThan(1e-5);
      expect(got.fracZeroStd, 'frac_reward_zero_std').toBeCloseTo(c.metrics.frac_reward_zero_std, 6);
      expect(got.reward, 'reward').toBeCloseTo(c.metrics.reward, 5);
      expect(got.rewardStd, 'reward_std').toBeCloseTo(c.metrics.reward_std, 5);
    }
    report(`trl-parity: advantages of ${out.cases.length} settings, worst error ${worstAdv.toExponential(2)} (relative to max(1, |A|))`);
  });
});
