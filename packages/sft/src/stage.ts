import type { SftConfig, StageContext } from '@ragrpo/config';
import { streamSeed } from '@ragrpo/config';
import { policyAdapterFolder, policyFolder, readPolicyRecord, SftLoss, tableFromRows, tableRows } from '@ragrpo/contracts';
import { createLora, exportModel, loadLora, loadModel, mergeLora, Policy, saveLora, type SftExample } from '@ragrpo/model';
import { createProgress } from '@ragrpo/progress';
import { finetuneExamples, packTexts, type FinetuneData, type PromptRow } from './examples.ts';
import { meanNll } from './held-out.ts';
import { warmupRecord } from './record.ts';
import { planPhase, runPhase, type LossRow, type PhaseResult, type PhaseSettings } from './train-phase.ts';

/**
 * ONNX Runtime intra-op threads. With 2 threads the CPU engine's training step differs between processes in
 * the last bits (ORT's thread pool splits some kernels by load), so the outputs would not be byte-identical
 * run to run; with 1 they are. On the 2 shared cores this project runs on, 1 thread is also as fast or faster
 * (measured: 380-510 ms vs 830-920 ms a step at load ~8).
 */
export const ORT_THREADS = 1;

/** TRL's SFTConfig max_length default: the pretrain window unless set (capped at the policy's max_seq_length). */
export const DEFAULT_PRETRAIN_LENGTH = 1024;

const fmt = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '?' : x.toFixed(3));

/**
 * The sft stage: the start policy (policy.json) -> pretrain on the chunk text -> finetune on the train split's
 * reference answers -> the warm-up policy (policy.json, with model/ or adapter/), loss.arrow and report.json.
 */
export async function sftStage(ctx: StageContext<SftConfig>): Promise<string> {
  const s = ctx.settings;
  const started = performance.now();
  if (!s.pretrain && !s.finetune) throw new Error('sft: configure pretrain, finetune or both');
  const recordFile = ctx.inputPath('policy');
  if (!recordFile) throw new Error('sft reads the policy record, and the pipeline has no policy: section');
  const start = await readPolicyRecord(recordFile);
  const folder = policyFolder(start, recordFile, ctx.root);
  const model = await loadModel(folder);
  const tokenizer = model.tokenizer;
  if (!tokenizer) throw new Error(`${folder}: the policy has no tokenizer (tokenizer.json + tokenizer_config.json)`);
  const eosId = tokenizer.eosTokenId ?? model.config.eosTokenIds[0];
  if (eosId === undefined || eosId === null) throw new Error(`${folder}: the tokenizer and config name no EOS token, which ends every answer and separates the pretraining texts`);
  const encode = (t: string) => tokenizer.encode(t);
  const maxSeq = start.max_seq_length;

  // Finetune examples (train) and the held-out set (test), which every phase is measured on.
  const ftLength = s.finetune?.max_length ?? maxSeq;
  if (ftLength > maxSeq) throw new Error(`sft.finetune.max_length: ${ftLength} is past the policy's max_seq_length ${maxSeq}`);
  const ftOptions = { encode, eosId, maxLength: ftLength, completionOnly: s.finetune?.completion_only_loss ?? true };
  const rows = tableRows<PromptRow>(await ctx.readInput('prompts'));
  const test = finetuneExamples(rows, { ...ftOptions, split: 'test' });
  let train: FinetuneData | null = null;
  if (s.finetune) {
    train = finetuneExamples(rows, { ...ftOptions, split: 'train' });
    if (train.examples.length === 0) {
      const why = train.questions === 0 ? 'the train split has no questions'
        : train.noReference === train.questions ? `none of the ${train.questions} train questions has a reference answer (give ingest.questions.reference_field, or drop sft.finetune)`
          : `all ${train.questions} train prompts are too long for sft.finetune.max_length ${ftLength}`;
      throw new Error(`sft.finetune: nothing to train on: ${why}`);
    }
    if (train.noReference) ctx.log.warn(`${train.noReference} of ${train.questions} train questions have no reference answer: skipped`);
    if (train.promptTooLong) ctx.log.warn(`${train.promptTooLong} train prompts leave no room for an answer within ${ftLength} tokens: skipped`);
    if (train.truncated) ctx.log.warn(`${train.truncated} train answers were cut at their end to fit ${ftLength} tokens (${train.truncatedTokens} tokens dropped)`);
  }

  // Pretraining windows from the chunk text.
  let windows: ReturnType<typeof packTexts> | null = null;
  let pretrainLength = 0;
  if (s.pretrain) {
    if (start.source !== 'scratch') ctx.log.warn(`sft.pretrain on a ${start.source} model (${start.model}): next-token training on the chunks moves a pretrained model away from what it knows; usually only finetune is wanted`);
    if (start.trainable === 'lora') ctx.log.warn('sft.pretrain trains the LoRA adapter only (policy.trainable: lora); a scratch model needs policy.trainable: full to learn the language');
    pretrainLength = s.pretrain.max_length ?? Math.min(DEFAULT_PRETRAIN_LENGTH, maxSeq);
    if (pretrainLength > maxSeq) throw new Error(`sft.pretrain.max_length: ${pretrainLength} is past the policy's max_seq_length ${maxSeq}`);
    const texts = ((await ctx.readInput('chunks')).getChild('text')?.toArray() ?? []) as string[];
    windows = packTexts(texts, encode, eosId, pretrainLength);
    if (windows.windows.length === 0) throw new Error(`sft.pretrain: the ${texts.length} chunks give ${windows.tokens} tokens, less than one window of max_length ${pretrainLength}; lower sft.pretrain.max_length`);
  }

  // The policy: every weight, or a LoRA adapter over the frozen start weights (the start record's own adapter continues).
  const startAdapter = policyAdapterFolder(start, recordFile, ctx.root);
  let weights = model.weights;
  let lora = null;
  if (start.trainable === 'lora') {
    lora = startAdapter ? loadLora(startAdapter, model.config)
      : createLora(model.config, { r: start.lora.r, alpha: start.lora.lora_alpha, dropout: start.lora.lora_dropout, targetModules: start.lora.target_modules }, streamSeed(ctx.seed, 'sft.lora'));
  } else if (startAdapter) {
    weights = mergeLora(model.config, model.weights, loadLora(startAdapter, model.config));
  }
  const policy = new Policy({ config: model.config, weights }, { lora, trainable: start.trainable, threads: ORT_THREADS });
  try {
    const evaluate = test.examples.length ? () => meanNll(policy, test.examples, s.per_device_eval_batch_size) : undefined;
    if (!evaluate) ctx.log.warn('no test question has a reference answer: no held-out loss (eval_loss stays empty)');
    const phases: { pretrain?: PhaseResult; finetune?: PhaseResult } = {};
    const run = async (phase: 'pretrain' | 'finetune', settings: PhaseSettings, items: readonly SftExample[]) => {
      const progress = createProgress({ stage: 'sft', task: phase, total: planPhase(settings, items.length).totalSteps, unit: 'steps', minIntervalMs: 0 });
      const r = await runPhase({
        phase, policy, items, settings, seed: ctx.seed, evaluate, evalBefore: phases.pretrain?.evalAfter, evalSteps: s.eval_steps, loggingSteps: s.logging_steps,
        onLog: (p) => progress.tick(p.stepsSinceLog, `loss ${fmt(p.loss)}, ${p.tokensPerSecond.toFixed(0)} tokens/s`),
      });
      progress.done(`loss ${fmt(r.firstLoss)} -> ${fmt(r.finalLoss)}${r.evalAfter !== null ? `, held-out ${fmt(r.evalBefore)} -> ${fmt(r.evalAfter)}` : ''}`);
      phases[phase] = r;
    };
    if (s.pretrain && windows) await run('pretrain', s.pretrain, windows.windows);
    if (s.finetune && train) await run('finetune', s.finetune, train.examples);

    // The warm-up policy.
    let record;
    if (lora) {
      saveLora(ctx.outputPath('adapter'), lora, { baseModel: start.model });
      record = warmupRecord(start, { kind: 'lora', startFolder: folder, outDir: ctx.outDir, adapterDir: ctx.outputPath('adapter') });
    } else {
      exportModel(ctx.outputPath('model'), policy, folder);
      record = warmupRecord(start, { kind: 'full', startFolder: folder, outDir: ctx.outDir, modelDir: ctx.outputPath('model') });
    }
    await ctx.writeOutput('policy', JSON.stringify(record, null, 2) + '\n');
    const lossRows: LossRow[] = [...(phases.pretrain?.rows ?? []), ...(phases.finetune?.rows ?? [])];
    await ctx.writeOutput('loss', tableFromRows(SftLoss, lossRows));

    const all = Object.values(phases);
    const trainSeconds = all.reduce((a, p) => a + p.trainSeconds, 0);
    const sequenceTokens = all.reduce((a, p) => a + p.sequenceTokens, 0);
    const wall = (performance.now() - started) / 1000;
    const phaseReport = (p: PhaseResult | undefined, extra: Record<string, unknown>) => p && {
      steps: p.steps, epochs: p.epochs, warmup_steps: p.plan.warmupSteps, sequences_per_step: p.plan.perStep,
      first_loss: p.firstLoss, final_loss: p.finalLoss, held_out_loss_before: p.evalBefore, held_out_loss_after: p.evalAfter,
      loss_tokens: p.lossTokens, tokens: p.sequenceTokens, tokens_per_second: p.sequenceTokens / Math.max(p.trainSeconds, 1e-9),
      train_seconds: p.trainSeconds, eval_seconds: p.evalSeconds, ...extra,
    };
    const report = {
      trainable: start.trainable,
      output: start.trainable === 'lora' ? 'adapter' : 'model',
      steps: all.reduce((a, p) => a + p.steps, 0),
      final_train_loss: (phases.finetune ?? phases.pretrain)?.finalLoss ?? null,
      held_out_loss_before_finetune: phases.finetune?.evalBefore ?? null,
      held_out_loss_after_finetune: phases.finetune?.evalAfter ?? null,
      held_out: { examples: test.examples.length, tokens: test.examples.reduce((a, e) => a + e.completionIds.length, 0), no_reference: test.noReference, truncated: test.truncated, prompt_too_long: test.promptTooLong },
      pretrain: phaseReport(phases.pretrain, windows ? { max_length: pretrainLength, windows: windows.windows.length, corpus_tokens: windows.tokens, dropped_tokens: windows.dropped } : {}) ?? null,
      finetune: phaseReport(phases.finetune, train ? {
        max_length: ftLength, completion_only_loss: ftOptions.completionOnly, examples: train.examples.length, questions: train.questions,
        no_reference: train.noReference, truncated: train.truncated, truncated_tokens: train.truncatedTokens, prompt_too_long: train.promptTooLong,
      } : {}) ?? null,
      tokens_per_second: sequenceTokens / Math.max(trainSeconds, 1e-9),
      wall_seconds: wall,
    };
    await ctx.writeOutput('report', JSON.stringify(report, null, 2) + '\n');

    const parts: string[] = [];
    if (phases.pretrain) parts.push(`pretrain ${phases.pretrain.steps} steps on ${windows?.windows.length} windows of ${pretrainLength} (loss ${fmt(phases.pretrain.firstLoss)} -> ${fmt(phases.pretrain.finalLoss)})`);
    if (phases.finetune) parts.push(`finetune ${phases.finetune.steps} steps on ${train?.examples.length} answers (loss ${fmt(phases.finetune.firstLoss)} -> ${fmt(phases.finetune.finalLoss)}${phases.finetune.evalAfter !== null ? `, held-out ${fmt(phases.finetune.evalBefore)} -> ${fmt(phases.finetune.evalAfter)}` : ''})`);
    return `${parts.join(', ')}; ${start.trainable === 'lora' ? 'LoRA adapter -> adapter/' : 'full weights -> model/'} at ${report.tokens_per_second.toFixed(0)} tokens/s`;
  } finally {
    await policy.release();
  }
}
