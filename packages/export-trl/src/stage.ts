import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { stageFolder, type GrpoConfig, type StageContext } from '@ragrpo/config';
import { policyAdapterFolder, policyFolder, readPolicyRecord, tableRows } from '@ragrpo/contracts';
import { loadTokenizer } from '@ragrpo/model';
import type { RewardSpec } from '@ragrpo/reward';
import { jsonLines, trlDataset, type PromptRow } from './dataset.ts';
import { trlConfig } from './grpo-config.ts';

/** The reward server's port train_trl.py expects unless told otherwise (`--reward-url`). */
export const DEFAULT_REWARD_PORT = 8787;
export const EXPORT_FORMAT = 'ragrpo.export-trl';
export const EXPORT_VERSION = 1;
/** The script the stage writes, kept as a Python file beside this module. */
export const TRAIN_SCRIPT = new URL('./train_trl.py', import.meta.url);

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** A folder as the export records it: relative to the export folder (so the artifacts move with the workspace), or absolute as given. */
function fromExport(folder: string, exportDir: string, absoluteInRecord: boolean): string {
  return absoluteInRecord ? folder : path.relative(exportDir, folder) || '.';
}

/**
 * The export-trl stage: the train split's prompts, the warm-up (or start) policy and the reward stage's
 * spec -> what TRL's GRPOTrainer needs to run the same GRPO elsewhere: train.jsonl, grpo_config.json,
 * export.json (the manifest: policy, dataset, rewards, the option-by-option mapping) and train_trl.py.
 */
export async function exportTrlStage(ctx: StageContext<GrpoConfig>): Promise<string> {
  const g = ctx.settings;
  const finalDir = stageFolder(ctx.root, ctx.pipeline.name, ctx.stage);
  const recordFile = ctx.inputPath('policy')!;
  const record = await readPolicyRecord(recordFile);
  const folder = policyFolder(record, recordFile, ctx.root);
  const warmup = policyAdapterFolder(record, recordFile, ctx.root);
  const tokenizer = await loadTokenizer(folder);

  const specText = readFileSync(ctx.inputPath('reward_spec')!, 'utf8');
  const spec = JSON.parse(specText) as RewardSpec;
  const dataset = trlDataset(tableRows<PromptRow>(await ctx.readInput('prompts')), tokenizer);
  if (record.has_chat_template && dataset.plainReason) ctx.log.warn(`prompts exported as plain text, not conversational: ${dataset.plainReason}`);
  const config = trlConfig(g, spec, ctx.seed);
  const generationBatch = (g.generation_batch_size ?? g.per_device_train_batch_size * (g.steps_per_generation ?? g.gradient_accumulation_steps));
  if (generationBatch % g.num_generations !== 0) {
    throw new Error(`grpo: the generation batch (${generationBatch} completions) must be a multiple of num_generations (${g.num_generations}); TRL refuses it too`);
  }

  // the workspace-relative name when the file is in the workspace (where the reward server runs)
  const inRoot = path.relative(ctx.root, ctx.pipeline.file);
  const pipelineFile = inRoot && !inRoot.startsWith('..') && !path.isAbsolute(inRoot) ? inRoot : ctx.pipeline.file;
  const serve = `npx ragrpo reward-server --pipeline ${pipelineFile} --port ${DEFAULT_REWARD_PORT}`;
  const manifest = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    pipeline: { name: ctx.pipeline.name, file: pipelineFile },
    policy: {
      // the folder transformers loads as is; a warm-up adapter (sft's LoRA) is merged into it first, as grpo-train does
      folder: fromExport(folder, finalDir, record.location.base === 'absolute'),
      warmup_adapter: warmup ? fromExport(warmup, finalDir, record.adapter?.base === 'absolute') : null,
      trainable: record.trainable,
      lora: record.lora,
      has_chat_template: record.has_chat_template,
      max_seq_length: record.max_seq_length,
      // the record train_trl.py writes next to TRL's adapter (location and adapter filled in there)
      record,
    },
    dataset: {
      file: 'train.jsonl',
      rows: dataset.rows.length,
      conversational: dataset.conversational,
      plain_reason: dataset.plainReason,
      columns: ['prompt', 'question_id', 'question', 'reference', 'context'],
    },
    rewards: {
      reward_funcs: spec.reward_funcs,
      reward_weights: spec.reward_weights,
      scale_rewards: spec.scale_rewards,
      multi_objective_aggregation: spec.multi_objective_aggregation,
      spec_sha256: sha256(specText),
      server: { url: `http://127.0.0.1:${DEFAULT_REWARD_PORT}`, command: serve },
    },
    grpo_config: 'grpo_config.json',
    options: config.options,
    not_exported: config.notExported,
    fixed: config.fixed,
    script: 'train_trl.py',
  };
  await ctx.writeOutput('dataset', jsonLines(dataset.rows));
  await ctx.writeOutput('config', JSON.stringify(config.args, null, 2) + '\n');
  await ctx.writeOutput('manifest', JSON.stringify(manifest, null, 2) + '\n');
  await ctx.writeOutput('script', readFileSync(TRAIN_SCRIPT));
  const skipped = config.notExported.map((n) => n.option).join(', ') || 'none';
  const rel = path.relative(ctx.root, finalDir);
  ctx.log.info(`to train with TRL: ${serve} & python ${path.join(rel, 'train_trl.py')} (tools/reference/setup_trl_venv.sh makes a venv with TRL)`);
  return `${dataset.rows.length} train prompts (${dataset.conversational ? 'conversational' : 'plain text'}), GRPOConfig of ${Object.keys(config.args).length} fields (not exported: ${skipped}), ${spec.reward_funcs.length} rewards served by reward-server`;
}
