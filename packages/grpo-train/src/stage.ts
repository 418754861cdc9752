import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { canonicalJson, digestPaths, type GrpoConfig, type StageContext } from '@ragrpo/config';
import {
  CompletionsLog, GrpoMetrics, policyAdapterFolder, policyFolder, readPolicyRecord, tableRows, workspaceLocation, type PolicyRecord,
} from '@ragrpo/contracts';
import { createLora, exportModel, loadLora, loadModel, mergeLora, Policy, saveLora } from '@ragrpo/model';
import { createProgress } from '@ragrpo/progress';
import { judgeGenerator, rewardFunctions, type RewardDeps, type RewardSpec } from '@ragrpo/reward';
import { rowsTable } from './tables.ts';
import { batchPlan } from './training/batch-plan.ts';
import { trainGrpo } from './training/grpo-loop.ts';
import type { TrainPrompt } from './training/rollouts.ts';
import { RunState } from './training/run-state.ts';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * The grpo-train stage: the warm-up (or start) policy, the train split's prompts and the reward
 * stage's spec -> the trained policy (adapter or full weights) with its record, checkpoints,
 * metrics.arrow and completions_log.arrow.
 */
export async function grpoStage(ctx: StageContext<GrpoConfig>): Promise<string> {
  const g = ctx.settings;
  const seed = g.seed ?? ctx.seed;
  const recordFile = ctx.inputPath('policy')!;
  const record = await readPolicyRecord(recordFile);
  const baseFolder = policyFolder(record, recordFile, ctx.root);
  const model = await loadModel(baseFolder);
  if (!model.tokenizer) throw new Error(`${baseFolder}: the policy has no tokenizer`);
  // A warm-up adapter is merged into the base: the reference policy of GRPO is the warm-up policy.
  const warmup = policyAdapterFolder(record, recordFile, ctx.root);
  const weights = warmup ? mergeLora(model.config, model.weights, loadLora(warmup, model.config)) : model.weights;
  const lora = record.trainable === 'lora'
    ? createLora(model.config, { r: record.lora.r, alpha: record.lora.lora_alpha, dropout: record.lora.lora_dropout, targetModules: record.lora.target_modules }, seed)
    : null;
  // One ONNX Runtime thread: with two, the training step's float sums differ between processes, and an exact
  // resume (byte-identical adapter after a kill) needs the same numbers in the resumed process.
  const policy = new Policy({ config: model.config, weights }, { lora, trainable: record.trainable, threads: 1 });

  const specFile = ctx.inputPath('reward_spec')!;
  const specText = readFileSync(specFile, 'utf8');
  const spec = JSON.parse(specText) as RewardSpec;
  const deps: RewardDeps = { root: ctx.root };
  let judge: Awaited<ReturnType<typeof judgeGenerator>> | null = null;
  if (spec.reward_funcs.includes('judge')) {
    // An OpenAI-compatible endpoint, the judge's own model folder, or the start policy (seed 000 asks the base model).
    judge = await judgeGenerator(spec.options.judge, async () => (typeof spec.options.judge?.model === 'string' ? ctx.resolve(spec.options.judge.model) : baseFolder));
    deps.generateText = judge.generateText;
  }
  try {
    const rewards = await rewardFunctions(spec, deps);
    const prompts = tableRows<TrainPrompt & { is_main: boolean; prompt_ids: Int32Array }>(await ctx.readInput('prompts'))
      .filter((p) => p.is_main && p.split === 'train')
      .map((p) => ({ ...p, prompt_ids: Array.from(p.prompt_ids) }));
    const longest = Math.max(0, ...prompts.map((p) => p.prompt_ids.length));
    if (longest + g.max_completion_length > record.max_seq_length) {
      throw new Error(`grpo.max_completion_length ${g.max_completion_length} + the longest train prompt (${longest} tokens) exceeds policy.max_seq_length ${record.max_seq_length}; lower one of them or prompts.max_prompt_length`);
    }

    // Checkpoints live beside the stage folder: a killed run loses its temporary output folder, not them.
    const runState = new RunState(path.join(path.dirname(ctx.outDir), '.grpo-train.resume'), {
      grpo: JSON.parse(canonicalJson(g)), seed, policy: record.digest, warmup_adapter: warmup ? sha256(readFileSync(path.join(warmup, 'adapter_model.safetensors'))) : null,
      trainable: record.trainable, lora: record.lora, reward_spec: sha256(specText), prompts: sha256(canonicalJson(prompts.map((p) => [p.question_id, p.prompt_ids]))),
    });

    const totalSteps = batchPlan(g, prompts.length).totalSteps;
    let progress = createProgress({ stage: 'grpo-train', task: 'steps', total: totalSteps, unit: 'steps', minIntervalMs: 0 });
    const started = performance.now();
    const result = await trainGrpo({
      settings: g, seed, policy, tokenizer: model.tokenizer, prompts, spec, rewards, specDigest: sha256(specText), runState,
      onResume: (dir, step) => {
        ctx.log.info(`resuming from ${dir} (step ${step})`);
        progress = createProgress({ stage: 'grpo-train', task: 'steps', total: totalSteps, unit: 'steps', minIntervalMs: 0, start: step });
      },
      onCheckpoint: (dir) => ctx.log.info(`checkpoint ${dir}`),
      onStep: (row) => {
        const kl = row.kl === null ? '' : ` kl ${row.kl!.toFixed(4)}`;
        progress.tick(g.logging_steps, `step ${row.step}: reward ${row.reward!.toFixed(3)} ± ${row.reward_std!.toFixed(3)}${kl} loss ${row.loss!.toFixed(4)}, ${row.tokens_per_second!.toFixed(0)} tokens/s`);
      },
    });
    progress.done();

    // The trained policy: an adapter over the (warm-up) base, or full weights; its record for evaluate.
    // As the sft stage writes it: `digest` is the base folder's, the adapter carries its own.
    let trained: PolicyRecord;
    const adapterOf = (): NonNullable<PolicyRecord['adapter']> => {
      saveLora(ctx.outputPath('adapter'), policy.lora!, { baseModel: record.model });
      return { base: 'artifact', path: 'adapter', digest: digestPaths(['.'], ctx.outputPath('adapter')) };
    };
    if (record.trainable === 'lora' && !g.save_merged_model) {
      const adapter = adapterOf();
      if (warmup) {
        exportModel(ctx.outputPath('model'), new Policy({ config: model.config, weights }), baseFolder);
        trained = { ...record, location: { base: 'artifact', path: 'model' }, digest: digestPaths(['.'], ctx.outputPath('model')), adapter };
      } else {
        trained = { ...record, location: workspaceLocation(baseFolder, ctx.root), adapter };
      }
    } else {
      if (record.trainable === 'lora') adapterOf();
      exportModel(ctx.outputPath('model'), policy, baseFolder);
      const { adapter: _none, ...rest } = record;
      trained = { ...rest, location: { base: 'artifact', path: 'model' }, digest: digestPaths(['.'], ctx.outputPath('model')) };
    }
    await ctx.writeOutput('policy', JSON.stringify(trained, null, 2) + '\n');

    // The run's checkpoints move into the output (as TRL's output_dir holds them); the resume folder goes.
    mkdirSync(ctx.outputPath('checkpoints'), { recursive: true });
    if (existsSync(runState.dir)) {
      for (const d of readdirSync(runState.dir)) {
        if (d.startsWith('checkpoint-')) renameSync(path.join(runState.dir, d), path.join(ctx.outputPath('checkpoints'), d));
      }
    }
    const names = spec.reward_funcs;
    await ctx.writeOutput('metrics', rowsTable(GrpoMetrics, result.state.metrics, names.flatMap((n) => [`rewards/${n}/mean`, `rewards/${n}/std`]), { 'ragrpo.rewards': JSON.stringify(names) }));
    await ctx.writeOutput('completions_log', rowsTable(CompletionsLog, result.state.log, names.map((n) => `reward_${n}`), { 'ragrpo.rewards': JSON.stringify(names) }));
    const last = result.state.metrics[result.state.metrics.length - 1];
    const first = result.state.metrics[0];
    const seconds = (performance.now() - started) / 1000;
    await ctx.writeOutput('report', JSON.stringify({
      steps: result.trainer.step, plan: result.plan, generations: result.state.generations, num_tokens: result.state.numTokens,
      reward_first: first?.reward ?? null, reward_last: last?.reward ?? null, seconds_this_run: seconds,
      trainable: record.trainable, loss_type: g.loss_type, beta: g.beta,
    }, null, 2) + '\n');
    runState.clear();
    return `${result.trainer.step} GRPO steps (${record.trainable}, ${g.loss_type}, beta ${g.beta}): reward ${first?.reward?.toFixed(3)} -> ${last?.reward?.toFixed(3)}, ${result.state.generations} generations of ${result.plan.generationBatch} completions`;
  } finally {
    await judge?.release();
    await policy.release();
  }
}
