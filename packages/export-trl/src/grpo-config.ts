import type { GrpoConfig } from '@ragrpo/config';
import type { RewardSpec } from '@ragrpo/reward';

/** One `grpo:` option and what became of it in TRL's GRPOConfig. */
export interface OptionMapping {
  option: string;
  /** The value in the pipeline (defaults filled in); null when unset. */
  value: unknown;
  /** The GRPOConfig field it sets (same name unless renamed), or null when it is not exported. */
  trl: string | null;
  /** What GRPOConfig gets; absent when not exported. */
  trl_value?: unknown;
  /** Why a value was renamed, converted or not exported. */
  note?: string;
}

export interface TrlConfig {
  /** GRPOConfig(**args): every field set explicitly, so TRL's own defaults never decide a run. */
  args: Record<string, unknown>;
  /** Option by option, the pipeline's grpo: section (and the reward spec's advantage settings). */
  options: OptionMapping[];
  /** The ragrpo-only settings TRL does not get, with the reasons. */
  notExported: { option: string; value: unknown; reason: string }[];
  /** GRPOConfig fields no grpo: option sets, written out so TRL computes what ragrpo does (FIXED_ARGS). */
  fixed: { trl: string; value: unknown; reason: string }[];
}

/** trl: the GRPOConfig field; null with `notExported` for a ragrpo-only setting, null alone when there is nothing to export. */
type Rule = (g: GrpoConfig, ctx: { seed: number }) => { trl: string | null; value?: unknown; note?: string; notExported?: boolean };

const same = (name: string): Rule => (g) => ({ trl: name, value: (g as Record<string, unknown>)[name] ?? null });
const notExported = (note: string): Rule => () => ({ trl: null, note, notExported: true });

/**
 * Every key of the grpo: section, mapped. The type makes a new grpo option a compile error here until it
 * is mapped or listed as not exported. Names are TRL's already; the notes say where a value changes.
 */
const RULES: { [K in keyof Required<GrpoConfig>]: Rule } = {
  num_generations: same('num_generations'),
  temperature: same('temperature'),
  top_p: same('top_p'),
  top_k: same('top_k'),
  min_p: (g) => ({ trl: 'min_p', value: g.min_p > 0 ? g.min_p : null, note: g.min_p > 0 ? undefined : '0 (off) is TRL\'s None' }),
  repetition_penalty: same('repetition_penalty'),
  max_completion_length: same('max_completion_length'),
  stop: (g) => (g.stop.length === 0
    ? { trl: null, note: 'none set: nothing to export' }
    : { trl: null, notExported: true, note: 'TRL has no stop option (transformers\' stop_strings needs the tokenizer at generate(), which GRPOTrainer does not pass): TRL completions run to EOS or max_completion_length' }),
  generation_batch_size: same('generation_batch_size'),
  steps_per_generation: same('steps_per_generation'),
  loss_type: same('loss_type'),
  beta: same('beta'),
  epsilon: same('epsilon'),
  epsilon_high: (g) => ({ trl: 'epsilon_high', value: g.epsilon_high ?? g.epsilon, note: g.epsilon_high === undefined ? 'unset: epsilon (TRL\'s rule, written out)' : undefined }),
  delta: same('delta'),
  importance_sampling_level: same('importance_sampling_level'),
  num_iterations: same('num_iterations'),
  mask_truncated_completions: same('mask_truncated_completions'),
  top_entropy_quantile: same('top_entropy_quantile'),
  learning_rate: same('learning_rate'),
  lr_scheduler_type: same('lr_scheduler_type'),
  warmup_ratio: (g) => (g.warmup_steps !== undefined
    ? { trl: null, note: 'warmup_steps is set and wins (as in ragrpo)' }
    // 1.0 would read as one step: just under it is every step (ceil), as ragrpo's ratio 1
    : { trl: 'warmup_steps', value: g.warmup_ratio >= 1 ? 0.9999999 : g.warmup_ratio, note: 'transformers 5 dropped warmup_ratio: a warmup_steps below 1 is the ratio of the total steps (ceil, as ragrpo)' }),
  warmup_steps: (g) => (g.warmup_steps === undefined ? { trl: null, note: 'unset: warmup_ratio decides' } : { trl: 'warmup_steps', value: g.warmup_steps }),
  max_grad_norm: same('max_grad_norm'),
  weight_decay: same('weight_decay'),
  adam_beta1: same('adam_beta1'),
  adam_beta2: same('adam_beta2'),
  adam_epsilon: same('adam_epsilon'),
  gradient_accumulation_steps: same('gradient_accumulation_steps'),
  per_device_train_batch_size: same('per_device_train_batch_size'),
  max_steps: same('max_steps'),
  num_train_epochs: same('num_train_epochs'),
  seed: (g, c) => ({ trl: 'seed', value: g.seed ?? c.seed, note: g.seed === undefined ? 'unset: the pipeline seed' : undefined }),
  save_steps: same('save_steps'),
  save_total_limit: (g) => ({ trl: 'save_total_limit', value: g.save_total_limit ?? 2, note: g.save_total_limit === undefined ? 'unset: ragrpo keeps 2 (TRL would keep all)' : undefined }),
  logging_steps: same('logging_steps'),
  resume_from_checkpoint: (g) => ({ trl: null, note: g.resume_from_checkpoint ? 'not a GRPOConfig value: train_trl.py resumes from the last checkpoint in its output folder (trainer.train(resume_from_checkpoint=...)); --no-resume starts over' : 'train_trl.py starts over (run it with --no-resume)' }),
  recompute: (g) => ({ trl: 'gradient_checkpointing', value: g.recompute, note: 'ragrpo\'s activation recomputation is TRL\'s gradient_checkpointing (TRL 1.x defaults it on; written out)' }),
  dynamic_sampling: notExported('ragrpo only (DAPO dynamic sampling: drop and refill groups whose rewards all agree); TRL trains on every group'),
  save_merged_model: notExported('ragrpo only: merge the adapter after training with peft\'s merge_and_unload() if a merged folder is wanted'),
};

/**
 * GRPOConfig fields with no grpo: option, written out where TRL's default would compute something else than
 * ragrpo does (TRL 1.16's defaults; the reason is in export.json's `fixed`).
 */
export const FIXED_ARGS: { trl: string; value: unknown; reason: string }[] = [
  { trl: 'bf16', value: false, reason: 'ragrpo computes in float32 (TRL 1.x turns bf16 on when unset, and refuses it on a CPU)' },
  { trl: 'fp16', value: false, reason: 'ragrpo computes in float32' },
  { trl: 'use_bias_correction_kl', value: false, reason: 'ragrpo\'s KL term is beta x k3 (TRL <= 1.x before DeepSeek-V3.2\'s correction); TRL 1.16 multiplies it by the importance ratio by default, which changes the KL gradient even on-policy' },
  { trl: 'entropy_coef', value: 0, reason: 'ragrpo has no entropy bonus' },
  { trl: 'off_policy_mask_threshold', value: null, reason: 'ragrpo has no off-policy sequence mask' },
  { trl: 'report_to', value: 'none', reason: 'no experiment tracker is assumed; set it for yours' },
  { trl: 'logging_strategy', value: 'steps', reason: 'one log row per logging_steps, as ragrpo\'s metrics.arrow' },
  { trl: 'save_strategy', value: 'steps', reason: 'checkpoints every save_steps, as ragrpo' },
  { trl: 'log_completions', value: false, reason: 'TRL prints them; train_trl.py keeps TRL\'s log history in metrics.jsonl' },
];

/** The pipeline's grpo: options (and the reward spec's advantage settings) as a GRPOConfig, option by option. */
export function trlConfig(g: GrpoConfig, spec: Pick<RewardSpec, 'reward_funcs' | 'reward_weights' | 'scale_rewards' | 'multi_objective_aggregation'>, pipelineSeed: number): TrlConfig {
  const args: Record<string, unknown> = {};
  const options: OptionMapping[] = [];
  const notExportedRows: TrlConfig['notExported'] = [];
  for (const [option, rule] of Object.entries(RULES) as [keyof GrpoConfig, Rule][]) {
    const value = (g as Record<string, unknown>)[option] ?? null;
    const r = rule(g, { seed: pipelineSeed });
    const row: OptionMapping = { option, value, trl: r.trl };
    if (r.trl !== null) {
      // null is TRL's None: written out too, so TRL's own default never decides
      row.trl_value = r.value ?? null;
      args[r.trl] = r.value ?? null;
    }
    if (r.note) row.note = r.note;
    if (r.notExported) notExportedRows.push({ option, value, reason: r.note ?? 'ragrpo only' });
    options.push(row);
  }
  // The reward settings live in reward: (grpo-train reads them from the reward stage's spec); TRL keeps them in GRPOConfig.
  const fromSpec: [string, unknown][] = [
    ['reward_weights', spec.reward_weights],
    ['scale_rewards', spec.scale_rewards],
    ['multi_objective_aggregation', spec.multi_objective_aggregation],
  ];
  for (const [option, value] of fromSpec) {
    args[option] = value;
    options.push({ option: `reward.${option}`, value, trl: option, trl_value: value, note: 'from the reward stage\'s reward_spec.json' });
  }
  for (const f of FIXED_ARGS) args[f.trl] = f.value;
  return { args, options, notExported: notExportedRows, fixed: FIXED_ARGS };
}
