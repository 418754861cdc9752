/**
 * `ragrpo serve`'s HTTP side (node:http): an OpenAI-compatible API over one ChatEngine.
 *
 *   GET  /v1/models, /v1/models/{id}    the one model served
 *   POST /v1/chat/completions           chat template applied, sampling options honoured, `n` choices from one
 *                                       prefill, `stream` as OpenAI's SSE chunks, `usage` token counts,
 *                                       finish_reason stop/length, a <think> block as `reasoning_content`
 *   GET  /health                        200 when the server is up
 *
 * Requests run one at a time (one engine; the rest wait their turn). Errors are OpenAI's JSON shape
 * ({ error: { message, type, param, code } }) with the status a client's retry logic expects: 400 for a bad
 * body (naming the field), 401 without the API key (when one is set), 404 for another model or path, 413 for a
 * body over the limit, 500 for an engine failure.
 */
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatMessage } from '@ragrpo/model';
import { ChoiceStream } from './choice-text.ts';
import { messageText, parseChatRequest, RequestError, type ChatRequest } from './chat-request.ts';
import type { ChatEngine, EngineParams } from './policy-engine.ts';

export interface ServeOptions {
  engine: ChatEngine;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** 0 = any free port. Default 8000. */
  port?: number;
  /** When set, requests need `Authorization: Bearer <apiKey>`. */
  apiKey?: string | null;
  /** max_tokens when a request gives none (capped by the context left). Default 512. */
  defaultMaxTokens?: number;
  /** Largest request body in bytes. Default 4 MiB. */
  maxBodyBytes?: number;
  /** One line per request (method, path, status, tokens, seconds). */
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

type Delta = { role?: 'assistant'; content?: string; reasoning_content?: string };

/** Runs tasks one after another. */
class Queue {
  private tail: Promise<unknown> = Promise.resolve();
  waiting = 0;

  run<T>(task: () => Promise<T>): Promise<T> {
    this.waiting++;
    const next = this.tail.then(() => { this.waiting--; return task(); });
    this.tail = next.catch(() => undefined);
    return next;
  }
}

function toMessages(req: ChatRequest): ChatMessage[] {
  return req.messages.map((m) => ({ role: m.role === 'developer' ? 'system' : m.role, content: messageText(m.content) }));
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new RequestError(413, `the request body is over ${limit} bytes`, null, 'request_too_large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new RequestError(400, 'the request body is empty: send a JSON object', null, 'invalid_json');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RequestError(400, `the request body is not valid JSON (${(e as Error).message})`, null, 'invalid_json');
  }
}

export async function startChatServer(o: ServeOptions): Promise<RunningServer> {
  const engine = o.engine;
  const queue = new Queue();
  const defaultMax = o.defaultMaxTokens ?? 512;
  const limit = o.maxBodyBytes ?? 4 << 20;
  const key = o.apiKey ? Buffer.from(o.apiKey) : null;
  const modelObject = { id: engine.modelId, object: 'model', created: engine.created, owned_by: 'ragrpo' };

  const authorized = (req: http.IncomingMessage): boolean => {
    if (!key) return true;
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const given = Buffer.from(m ? m[1].trim() : '');
    return given.length === key.length && timingSafeEqual(given, key);
  };

  const chat = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<string> => {
    const body = parseChatRequest(await readBody(req, limit));
    if (body.model !== engine.modelId) {
      throw new RequestError(404, `The model '${body.model}' does not exist; this server serves '${engine.modelId}' (GET /v1/models)`, 'model', 'model_not_found');
    }
    const messages = toMessages(body);
    let rendered;
    try {
      rendered = engine.render(messages);
    } catch (e) {
      throw new RequestError(400, `messages: the chat template failed: ${(e as Error).message.split('\n')[0]}`, 'messages', 'invalid_value');
    }
    const promptTokens = rendered.ids.length;
    const room = engine.contextLength - promptTokens;
    const asked = body.max_completion_tokens ?? body.max_tokens ?? null;
    if (room < 1 || (asked !== null && asked > room)) {
      throw new RequestError(400, `This model's maximum context length is ${engine.contextLength} tokens. However, you requested ${promptTokens + (asked ?? 1)} tokens (${promptTokens} in the messages, ${asked ?? 1} in the completion). Please reduce the length of the messages or completion.`,
        'messages', 'context_length_exceeded');
    }
    const stops = body.stop === null || body.stop === undefined ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
    const d = engine.defaults;
    const params: EngineParams = {
      maxTokens: asked ?? Math.min(defaultMax, room),
      temperature: body.temperature ?? d.temperature ?? 1,
      topP: body.top_p ?? d.topP ?? 1,
      topK: Math.max(0, body.top_k ?? d.topK ?? 0),
      minP: body.min_p ?? 0,
      repetitionPenalty: body.repetition_penalty ?? d.repetitionPenalty ?? 1,
      n: body.n ?? 1,
      seed: body.seed ?? randomInt(2 ** 31),
    };
    const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const stream = body.stream === true;
    const includeUsage = stream && body.stream_options?.include_usage === true;
    const choices = Array.from({ length: params.n }, () => new ChoiceStream({ opensThink: rendered.opensThink, stops }));
    let gone = false;
    res.on('close', () => { if (!res.writableFinished) gone = true; });
    res.on('error', () => { gone = true; });

    const chunk = (choiceDeltas: { index: number; delta: Delta; finish_reason: string | null; logprobs?: unknown }[], usage?: unknown) => {
      if (gone) return;
      const c: Record<string, unknown> = { id, object: 'chat.completion.chunk', created, model: engine.modelId, system_fingerprint: null,
        choices: choiceDeltas.map((x) => ({ index: x.index, delta: x.delta, logprobs: x.logprobs ?? null, finish_reason: x.finish_reason })) };
      if (usage !== undefined) c.usage = usage;
      res.write(`data: ${JSON.stringify(c)}\n\n`);
    };
    const started = performance.now();

    return queue.run(async () => {
      if (gone) return 'client gone before its turn';
      if (stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': id });
        chunk(choices.map((_, index) => ({ index, delta: { role: 'assistant', content: '' }, finish_reason: null })), includeUsage ? null : undefined);
      }
      let rows;
      const raws: string[] = choices.map(() => '');
      try {
        rows = await engine.generate(rendered.ids, params, (row, text) => {
          raws[row] = text;
          const ch = choices[row];
          const delta = ch.update(text);
          if (stream && (delta.content !== undefined || delta.reasoning_content !== undefined) && !gone) chunk([{ index: row, delta, finish_reason: null }], includeUsage ? null : undefined);
          return gone || ch.view.stopped;
        });
      } catch (e) {
        const err = new RequestError(500, `the engine failed: ${(e as Error).message.split('\n')[0]}`, null, 'engine_error');
        if (!stream) throw err;
        res.write(`data: ${JSON.stringify(err.body())}\n\n`);
        res.end();
        return 'engine error';
      }
      const completionTokens = rows.reduce((n, r) => n + r.tokens.length, 0);
      const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
      const results = rows.map((r, index) => {
        const ch = choices[index];
        const last = ch.update(raws[index], true);
        const finish = ch.view.stopped || r.finish !== 'length' ? 'stop' : 'length';
        const logprobs = body.logprobs ? { content: tokenLogprobs(engine, r.tokens, r.logprobs, r.finish === 'eos'), refusal: null } : null;
        return { index, last, finish, logprobs, view: ch.view };
      });
      const line = `${completionTokens} tokens, ${((performance.now() - started) / 1000).toFixed(1)} s`;
      if (gone) return `${line}, client gone`;
      if (stream) {
        for (const r of results) {
          if (r.last.content !== undefined || r.last.reasoning_content !== undefined) chunk([{ index: r.index, delta: r.last, finish_reason: null }], includeUsage ? null : undefined);
        }
        for (const r of results) chunk([{ index: r.index, delta: {}, finish_reason: r.finish, logprobs: r.logprobs }], includeUsage ? null : undefined);
        if (includeUsage) {
          res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: engine.modelId, system_fingerprint: null, choices: [], usage })}\n\n`);
        }
        res.end('data: [DONE]\n\n');
        return line;
      }
      sendJson(res, 200, {
        id, object: 'chat.completion', created, model: engine.modelId, system_fingerprint: null,
        choices: results.map((r) => ({
          index: r.index,
          message: { role: 'assistant', content: r.view.content, ...(r.view.reasoning !== null ? { reasoning_content: r.view.reasoning } : {}), refusal: null },
          logprobs: r.logprobs,
          finish_reason: r.finish,
        })),
        usage,
      });
      return line;
    });
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const started = performance.now();
    const done = (status: number, extra = '') => o.log?.(`${req.method} ${url.pathname} ${status}${extra ? ` (${extra})` : ''} ${((performance.now() - started) / 1000).toFixed(2)} s`);
    const fail = (e: unknown) => {
      const err = e instanceof RequestError ? e : new RequestError(500, `internal error: ${(e as Error).message.split('\n')[0]}`, null, 'internal_error');
      if (!res.headersSent) sendJson(res, err.status, err.body());
      else res.end();
      done(err.status, err.message);
    };
    try {
      if (url.pathname === '/health' && req.method === 'GET') { sendJson(res, 200, { status: 'ok', model: engine.modelId, waiting: queue.waiting }); return; }
      if (!authorized(req)) throw new RequestError(401, 'Incorrect API key provided: send it as Authorization: Bearer <key>', null, 'invalid_api_key');
      const route = url.pathname.replace(/\/+$/, '');
      if (route === '/v1/models' || route.startsWith('/v1/models/')) {
        if (req.method !== 'GET') throw new RequestError(405, `${req.method} ${route}: use GET`, null, 'method_not_allowed');
        if (route === '/v1/models') { sendJson(res, 200, { object: 'list', data: [modelObject] }); done(200); return; }
        const wanted = decodeURIComponent(route.slice('/v1/models/'.length));
        if (wanted !== engine.modelId) throw new RequestError(404, `The model '${wanted}' does not exist`, 'model', 'model_not_found');
        sendJson(res, 200, modelObject);
        done(200);
        return;
      }
      if (route === '/v1/chat/completions') {
        if (req.method !== 'POST') throw new RequestError(405, `${req.method} ${route}: use POST`, null, 'method_not_allowed');
        chat(req, res).then((what) => done(res.statusCode, what), fail);
        return;
      }
      throw new RequestError(404, `${req.method} ${url.pathname}: no such route (this server has GET /v1/models and POST /v1/chat/completions)`, null, 'not_found');
    } catch (e) {
      fail(e);
    }
  });

  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8000, host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/v1`,
    port,
    server,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** OpenAI's logprobs.content: one entry per generated token (the EOS token left out). */
function tokenLogprobs(engine: ChatEngine, tokens: number[], logprobs: number[], eos: boolean) {
  const n = eos ? tokens.length - 1 : tokens.length;
  return tokens.slice(0, n).map((t, i) => {
    const token = engine.tokenText(t);
    return { token, logprob: logprobs[i], bytes: [...Buffer.from(token, 'utf8')], top_logprobs: [] };
  });
}
