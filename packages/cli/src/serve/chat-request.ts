/**
 * The body of POST /v1/chat/completions, validated with zod: OpenAI's names and ranges, plus vLLM's sampling
 * extensions (top_k, min_p, repetition_penalty). A bad body is one 400 naming the first bad field, in OpenAI's
 * error shape; parameters the engine cannot honour (tools, response formats, penalties it does not have) are
 * refused by name rather than ignored.
 */
import { z } from 'zod';

const TextPart = z.strictObject({ type: z.literal('text'), text: z.string() });
const Content = z.union([z.string(), z.array(TextPart).min(1)]);
const name = z.string().optional();

const Message = z.discriminatedUnion('role', [
  z.strictObject({ role: z.literal('system'), content: Content, name }),
  z.strictObject({ role: z.literal('developer'), content: Content, name }),
  z.strictObject({ role: z.literal('user'), content: Content, name }),
  z.strictObject({
    role: z.literal('assistant'),
    content: Content.nullable().optional(),
    name,
    /** DeepSeek's field, should a client send a reply back as it came: dropped, the thinking is not re-rendered. */
    reasoning_content: z.string().nullable().optional(),
    refusal: z.string().nullable().optional(),
  }),
]);

const nullish = <T extends z.ZodType>(t: T) => t.nullable().optional();

/** Parameters OpenAI has and this server refuses, with why. */
const REFUSED: Record<string, string> = {
  tools: 'tool calling is not supported',
  tool_choice: 'tool calling is not supported',
  functions: 'function calling is not supported',
  function_call: 'function calling is not supported',
  audio: 'audio output is not supported',
  prediction: 'predicted outputs are not supported',
  web_search_options: 'web search is not supported',
};

export const ChatRequest = z.strictObject({
  model: z.string().min(1),
  messages: z.array(Message).min(1),
  temperature: nullish(z.number().min(0).max(2)),
  top_p: nullish(z.number().gt(0).max(1)),
  max_tokens: nullish(z.number().int().positive()),
  max_completion_tokens: nullish(z.number().int().positive()),
  n: nullish(z.number().int().min(1).max(16)),
  stop: nullish(z.union([z.string().min(1), z.array(z.string().min(1)).max(4)])),
  stream: nullish(z.boolean()),
  stream_options: nullish(z.strictObject({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() })),
  seed: nullish(z.number().int()),
  logprobs: nullish(z.boolean()),
  top_logprobs: nullish(z.number().int().min(0).max(0, { message: 'top_logprobs is not supported (the sampler reports the log-prob of the chosen token only): use 0 or leave it out' })),
  frequency_penalty: nullish(z.literal(0, { message: 'frequency_penalty is not supported: use repetition_penalty (transformers\' multiplicative penalty)' })),
  presence_penalty: nullish(z.literal(0, { message: 'presence_penalty is not supported: use repetition_penalty (transformers\' multiplicative penalty)' })),
  logit_bias: nullish(z.record(z.string(), z.number()).refine((b) => Object.keys(b).length === 0, { message: 'logit_bias is not supported' })),
  response_format: nullish(z.strictObject({ type: z.literal('text', { message: 'only response_format {"type": "text"} is supported' }) })),
  modalities: nullish(z.array(z.literal('text', { message: 'only the text modality is supported' }))),
  parallel_tool_calls: nullish(z.boolean()),
  user: nullish(z.string()),
  store: nullish(z.boolean()),
  metadata: nullish(z.record(z.string(), z.string())),
  service_tier: nullish(z.string()),
  reasoning_effort: nullish(z.string()),
  // vLLM's extensions, transformers' semantics.
  top_k: nullish(z.number().int().min(-1)),
  min_p: nullish(z.number().min(0).max(1)),
  repetition_penalty: nullish(z.number().positive()),
});

export type ChatRequest = z.infer<typeof ChatRequest>;
export type RequestMessage = ChatRequest['messages'][number];

export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type = status === 401 ? 'authentication_error' : status === 404 ? 'not_found_error' : status >= 500 ? 'server_error' : 'invalid_request_error',
  ) {
    super(message);
  }

  body() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

function fieldPath(p: readonly PropertyKey[]): string {
  return p.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '');
}

/** The request, or a RequestError (400) naming the first bad field. */
export function parseChatRequest(body: unknown): ChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RequestError(400, 'the request body must be a JSON object');
  for (const key of Object.keys(body)) {
    if (key in REFUSED) throw new RequestError(400, `${key}: ${REFUSED[key]} by ragrpo serve`, key, 'unsupported_parameter');
  }
  const r = ChatRequest.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    const where = fieldPath(issue.path);
    const key = issue.keys[0];
    const param = where ? `${where}.${key}` : key;
    return fail(`Unrecognized request argument supplied: ${param}`, param, 'unknown_parameter');
  }
  const param = fieldPath(issue.path) || null;
  const missing = issue.path.length > 0 && valueAt(body, issue.path) === undefined;
  return fail(missing ? `${param}: required` : `${param ?? 'body'}: ${issue.message}`, param, missing ? 'missing_required_parameter' : 'invalid_value');
}

function valueAt(body: unknown, p: readonly PropertyKey[]): unknown {
  let v: unknown = body;
  for (const k of p) v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

function fail(message: string, param: string | null, code: string): never {
  throw new RequestError(400, message, param, code);
}

/** A message's text: a string, or its text parts joined. */
export function messageText(content: RequestMessage['content']): string {
  if (content === null || content === undefined) return '';
  return typeof content === 'string' ? content : content.map((p) => p.text).join('');
}
