import { z } from 'zod';

// generate: candidate groups per question (seed 000), with TRL's sampling option names.

export const SamplingSettings = {
  temperature: z.number().min(0).default(1),
  top_p: z.number().gt(0).max(1).default(1),
  /** 0 = off */
  top_k: z.number().int().min(0).default(0),
  /** Keep tokens with probability >= min_p * the top token's (0 = off). */
  min_p: z.number().min(0).max(1).default(0),
  repetition_penalty: z.number().positive().default(1),
  max_completion_length: z.number().int().positive().default(64),
  /** Strings that end a completion (kept in the text, as transformers' stop_strings). */
  stop: z.array(z.string().min(1)).default([]),
};

/**
 * An OpenAI-compatible chat endpoint (`ragrpo serve`, vLLM, DeepSeek's or OpenAI's API) used instead of a local
 * model: by generate (text only, no log-probs: evaluation only) and by the judge reward (reward.options.judge.endpoint).
 */
export const EndpointSettings = z.strictObject({
  /** The API root the client appends /chat/completions to, e.g. http://127.0.0.1:8000/v1 or https://api.deepseek.com. */
  base_url: z.string().regex(/^https?:\/\/[^\s/]+/, { message: 'must be an http(s) URL such as http://127.0.0.1:8000/v1' }),
  /** The model id the endpoint serves (GET /v1/models lists them). */
  model: z.string().min(1),
  /** The environment variable holding the API key (its value never goes in the pipeline file); unset: no key. */
  api_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'must be an environment variable name such as DEEPSEEK_API_KEY' }).optional(),
  /** Seconds per request attempt. */
  timeout_s: z.number().positive().default(600),
  /** Retries of a 408/409/429/5xx or a connection failure, with exponential back-off (the openai client's). */
  max_retries: z.number().int().min(0).max(10).default(3),
  /** Requests in flight at once. */
  concurrency: z.number().int().positive().max(64).default(4),
});

/**
 * The judge's options (reward.options.judge, evaluate.options.judge): a local model folder (`model`) or an
 * OpenAI-compatible `endpoint`, not both; the endpoint is validated and its defaults filled in place.
 */
export function checkJudgeOptions(judge: Record<string, unknown> | undefined, ctx: z.RefinementCtx): void {
  if (!judge || judge.endpoint === undefined) return;
  if (judge.model !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['options', 'judge', 'endpoint'], message: 'give the judge a model folder (model) or an endpoint, not both' });
    return;
  }
  const parsed = EndpointSettings.safeParse(judge.endpoint);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    ctx.addIssue({ code: 'custom', path: ['options', 'judge', 'endpoint', ...issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k))], message: issue.message });
  } else judge.endpoint = parsed.data;
}

export const GenerateSection = z.strictObject({
  /** Sample from this endpoint instead of the policy (text only, no log-probs: for evaluation, never for training). */
  endpoint: EndpointSettings.optional(),
  /** Plain samples per question at `temperature` (TRL's group size). */
  num_generations: z.number().int().min(2, { message: 'must be at least 2: a group of one has no relative advantage' }).default(8),
  ...SamplingSettings,
  /** A greedy completion in every group: the reference answer of seed 000. */
  greedy_reference: z.boolean().default(true),
  /** More temperatures, each with samples_per_temperature samples (seed 000's temperature variants). */
  temperatures: z.array(z.number().min(0)).default([]),
  samples_per_temperature: z.number().int().positive().default(1),
  /** Alternative prompt templates (names from prompts.alternatives), each with samples_per_template samples. */
  template_variants: z.array(z.string()).default([]),
  samples_per_template: z.number().int().positive().default(1),
  /** Which questions get groups. */
  splits: z.array(z.enum(['train', 'test'])).min(1).default(['train', 'test']),
  /** At most this many questions (0 = all), first by question id order. */
  limit: z.number().int().min(0).default(0),
  /** Prompts sampled together in one batch (each with its whole group). */
  prompts_per_batch: z.number().int().positive().default(4),
});
