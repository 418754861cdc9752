/**
 * An OpenAI-compatible chat endpoint as a text generator: the official `openai` client (its retries with
 * exponential back-off on 408/409/429/5xx and connection failures, honouring Retry-After), configured with
 * the endpoint's timeout and retry count. What can go wrong comes back as one line naming the setting and the
 * endpoint: unreachable, a 4xx or 5xx answer (after the retries where they apply), a reply without choices.
 * A `<think>` block (in the content, or as DeepSeek's `reasoning_content`) is returned apart from the answer.
 */
import OpenAI from 'openai';
import { splitReasoning } from '../sampling/reasoning.ts';

/** generate.endpoint / reward.options.judge.endpoint, as @ragrpo/config validates them. */
export interface EndpointSettings {
  base_url: string;
  model: string;
  api_key_env?: string;
  timeout_s?: number;
  max_retries?: number;
  concurrency?: number;
}

export type EndpointMessage = { role: 'system' | 'user' | 'assistant'; content: string };

export interface EndpointRequest {
  temperature: number;
  top_p?: number;
  max_tokens: number;
  stop?: string[];
  seed?: number;
  /** Sampling options past OpenAI's (vLLM's and `ragrpo serve`'s names), sent only when not at their defaults. */
  top_k?: number;
  min_p?: number;
  repetition_penalty?: number;
}

export interface EndpointReply {
  /** The answer: the content, with any <think> block taken out. */
  answer: string;
  /** The thinking: DeepSeek's reasoning_content, else the content's <think> block; null when there is none. */
  reasoning: string | null;
  /** The content as the endpoint sent it. */
  content: string;
  finishReason: 'stop' | 'length' | 'other';
  promptTokens: number | null;
  completionTokens: number | null;
}

export interface ChatEndpoint {
  readonly settings: Required<Omit<EndpointSettings, 'api_key_env'>> & Pick<EndpointSettings, 'api_key_env'>;
  chat(messages: EndpointMessage[], r: EndpointRequest): Promise<EndpointReply>;
  /** Runs `tasks` with at most `concurrency` in flight; results in task order. */
  map<T, R>(items: readonly T[], fn: (item: T, index: number) => Promise<R>): Promise<R[]>;
}

/** What a connection failure comes down to: the first error code in the cause chain, else its deepest message. */
function rootCause(e: unknown): string {
  let cur: unknown = e;
  let deepest = (e as Error).message?.split('\n')[0] ?? String(e);
  for (let i = 0; i < 8 && cur; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && code) return code;
    const m = (cur as { message?: unknown }).message;
    if (typeof m === 'string' && m) deepest = m.split('\n')[0];
    cur = (cur as { cause?: unknown }).cause;
  }
  // fetch refuses some ports outright ("bad port": 9, 25, 6000, ...): say so
  return deepest === 'bad port' ? 'bad port (fetch refuses this port number; use another)' : deepest;
}

/**
 * A client for `label` (the setting's path, e.g. `generate.endpoint`, used in every error). Throws at once when
 * api_key_env names a variable that is not set.
 */
export function createChatEndpoint(e: EndpointSettings, label: string): ChatEndpoint {
  const settings = { base_url: e.base_url, model: e.model, api_key_env: e.api_key_env, timeout_s: e.timeout_s ?? 600, max_retries: e.max_retries ?? 3, concurrency: e.concurrency ?? 4 };
  let apiKey = 'none';
  if (e.api_key_env) {
    const v = process.env[e.api_key_env];
    if (!v) throw new Error(`${label}.api_key_env: the environment variable ${e.api_key_env} is not set (it holds the API key of ${e.base_url})`);
    apiKey = v;
  }
  const client = new OpenAI({ baseURL: e.base_url, apiKey, timeout: settings.timeout_s * 1000, maxRetries: settings.max_retries });
  const where = `${e.base_url} (model ${e.model})`;
  const retried = settings.max_retries > 0 ? ` after ${settings.max_retries} ${settings.max_retries === 1 ? 'retry' : 'retries'}` : '';

  const explain = (err: unknown): Error => {
    if (err instanceof OpenAI.APIConnectionTimeoutError) return new Error(`${label}: ${where} did not answer within ${settings.timeout_s} s${retried} (timeout_s)`);
    if (err instanceof OpenAI.APIConnectionError) return new Error(`${label}: cannot reach ${where}: ${rootCause(err)}${retried}`);
    if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
      const transient = err.status === 408 || err.status === 409 || err.status === 429 || err.status >= 500;
      const msg = (err.error as { message?: string } | undefined)?.message ?? err.message.replace(/^\d+\s*/, '');
      const hint = err.status === 401 || err.status === 403 ? (e.api_key_env ? ` (check ${e.api_key_env})` : ' (set api_key_env to the variable holding the key)') : err.status === 404 ? ' (check base_url and model: GET /models lists the models)' : '';
      return new Error(`${label}: ${where} answered ${err.status}: ${msg.split('\n')[0]}${transient ? retried : ''}${hint}`);
    }
    return new Error(`${label}: ${where}: ${(err as Error).message?.split('\n')[0] ?? String(err)}`);
  };

  return {
    settings,
    async chat(messages, r) {
      const body: Record<string, unknown> = { model: e.model, messages, temperature: r.temperature, max_tokens: r.max_tokens };
      if (r.top_p !== undefined && r.top_p !== 1) body.top_p = r.top_p;
      if (r.stop && r.stop.length) body.stop = r.stop;
      if (r.seed !== undefined) body.seed = r.seed;
      if (r.top_k) body.top_k = r.top_k;
      if (r.min_p) body.min_p = r.min_p;
      if (r.repetition_penalty !== undefined && r.repetition_penalty !== 1) body.repetition_penalty = r.repetition_penalty;
      let res: OpenAI.Chat.Completions.ChatCompletion;
      try {
        res = await client.chat.completions.create(body as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
      } catch (err) {
        throw explain(err);
      }
      const choice = Array.isArray(res?.choices) ? res.choices[0] : undefined;
      if (!choice || typeof choice.message !== 'object' || choice.message === null) {
        throw new Error(`${label}: ${where} replied without choices (${JSON.stringify(res).slice(0, 120)})`);
      }
      const content = typeof choice.message.content === 'string' ? choice.message.content : '';
      const given = (choice.message as { reasoning_content?: unknown }).reasoning_content;
      const split = splitReasoning(content);
      const reasoning = typeof given === 'string' && given !== '' ? given.trim() : split.reasoning;
      const f = choice.finish_reason;
      return {
        answer: split.answer, reasoning, content,
        finishReason: f === 'stop' || f === 'length' ? f : 'other',
        promptTokens: res.usage?.prompt_tokens ?? null, completionTokens: res.usage?.completion_tokens ?? null,
      };
    },
    async map(items, fn) {
      const out = new Array(items.length);
      let next = 0;
      let failed = false;
      const worker = async () => {
        while (!failed && next < items.length) {
          const i = next++;
          try {
            out[i] = await fn(items[i], i);
          } catch (err) {
            failed = true;
            throw err;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(settings.concurrency, items.length) }, worker));
      return out;
    },
  };
}
