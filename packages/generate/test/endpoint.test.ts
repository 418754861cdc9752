/**
 * generate's `endpoint:` path against `ragrpo serve` (the linked bin, on a scratch model), and its bad inputs:
 * an unreachable endpoint, a 4xx, a 5xx and a 429 (retried with back-off by the openai client), a reply without
 * choices, a missing API key variable: one line each.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe } from '@ragrpo/generate/testing';
import { GenerateSection } from '@ragrpo/config';
import { tableRows } from '@ragrpo/contracts';
import { buildScratchModel, loadModel, type Tokenizer } from '@ragrpo/model';
import { createChatEndpoint, endpointGroups, promptMessages } from '../src/index.ts';
import type { EndpointPromptRow } from '../src/endpoint/endpoint-groups.ts';



/** A stub server answering from a script (status, headers, body) per request; counts the requests. */
async function stub(script: (n: number) => { status: number; body: unknown; headers?: Record<string, string> }) {
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const r = script(n++);
      res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
      res.end(JSON.stringify(r.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return { url, count: () => n, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

const ok = (content: string) => ({ id: 'x', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });

describe('generate against ragrpo serve', () => {
  let dir: string;
  let model: string;
  let tokenizer: Tokenizer;
  let serve: Awaited<ReturnType<typeof startServe>>;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'generate-endpoint-'));
    const built = await buildScratchModel({
      out: path.join(dir, 'scratch'), arch: 'llama', layers: 1, hidden: 32, heads: 2, intermediate: 64, maxPositions: 256, seed: 1,
      corpus: ['Which wine is red? A red wine from Tuscany scored 92 points and costs 40 dollars.'], vocabSize: 320, initStd: 0.2,
    });
    model = built.out;
    tokenizer = (await loadModel(model)).tokenizer!;
    serve = await startServe(model);
  }, 120_000);
  afterAll(async () => { await serve?.stop(); await rm(dir, { recursive: true, force: true }); });

  it('recovers the system and user messages from a chat-templated prompt', () => {
    expect(tokenizer.hasChatTemplate).toBe(true);
    const messages = [{ role: 'system' as const, content: 'You answer questions.' }, { role: 'user' as const, content: 'Which wine is red?\n\nDocument 1: ...' }];
    expect(promptMessages(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }), tokenizer)).toEqual(messages);
    expect(promptMessages(tokenizer.applyChatTemplate([messages[1]], { addGenerationPrompt: true }), tokenizer)).toEqual([messages[1]]);
    // not chat-templated (alpaca, context_only): the text is the user message
    expect(promptMessages('### Instruction:\nWhich wine?', tokenizer)).toEqual([{ role: 'user', content: '### Instruction:\nWhich wine?' }]);
  });

  it('asks the endpoint for every member of every group: text, no log-probs, same seeds same text', async () => {
    const s = GenerateSection.parse({ endpoint: { base_url: serve.url, model: 'scratch', concurrency: 2 }, num_generations: 2, max_completion_length: 6, temperatures: [0.7], template_variants: ['context_only'], prompts_per_batch: 2 });
    const chat = (q: string) => tokenizer.applyChatTemplate([{ role: 'system', content: 'Answer.' }, { role: 'user', content: q }], { addGenerationPrompt: true });
    const prompts: EndpointPromptRow[] = ['q1', 'q2', 'q3'].flatMap((q, i) => [
      { question_id: q, split: 'train', template: 'chat', is_main: true, prompt: chat(`Which wine is red ${i}?`), prompt_ids: tokenizer.encode(chat(`Which wine is red ${i}?`), { addSpecialTokens: false }) },
      { question_id: q, split: 'train', template: 'context_only', is_main: false, prompt: `Answer from the context ${i}.`, prompt_ids: tokenizer.encode(`Answer from the context ${i}.`) },
    ]);
    const endpoint = createChatEndpoint(s.endpoint!, 'generate.endpoint');
    const a = await endpointGroups(prompts, endpoint, tokenizer, s, { seed: 5 });
    const rows = tableRows<{ question_id: string; group_index: number; variant: string; completion: string; answer: string; completion_ids: Int32Array; logprobs: Float32Array; completion_tokens: number; finish_reason: string; temperature: number }>(a.table);
    expect(rows).toHaveLength(3 * 5);
    expect(rows.filter((r) => r.question_id === 'q2').map((r) => `${r.group_index}:${r.variant}`)).toEqual(['0:greedy', '1:temperature=0.7', '2:template=context_only', '3:sample', '4:sample']);
    for (const r of rows) {
      expect(r.logprobs).toHaveLength(0);
      expect(Array.from(r.completion_ids)).toEqual(r.completion === '' ? [] : tokenizer.encode(r.completion, { addSpecialTokens: false }));
      expect(r.completion_tokens).toBe(r.completion_ids.length);
      expect(['eos', 'stop', 'length']).toContain(r.finish_reason);
    }
    expect(a.stats.requests).toBe(15);
    expect(a.stats.endpointCompletionTokens).toBeGreaterThan(0);
    // ragrpo serve samples with the seed each member sends: a second run gives the same table.
    const b = await endpointGroups(prompts, endpoint, tokenizer, s, { seed: 5 });
    expect(tableRows<{ completion: string }>(b.table).map((r) => r.completion)).toEqual(rows.map((r) => r.completion));
  }, 120_000);

  it('a 4xx from the endpoint is one line naming the setting (not retried)', async () => {
    const e = createChatEndpoint({ base_url: serve.url, model: 'no-such-model', max_retries: 3 }, 'generate.endpoint');
    await expect(e.chat([{ role: 'user', content: 'hi' }], { temperature: 0, max_tokens: 2 }))
      .rejects.toThrow(new RegExp(`^generate\\.endpoint: ${serve.url.replace(/[.]/g, '\\.')} \\(model no-such-model\\) answered 404: The model 'no-such-model' does not exist; this server serves 'scratch' .*\\(check base_url and model`));
  });
});

describe('endpoint errors, one line each', () => {
  it('unreachable', async () => {
    const s = await stub(() => ({ status: 200, body: {} }));
    await s.close();
    const e = createChatEndpoint({ base_url: s.url, model: 'm', max_retries: 1 }, 'reward.options.judge.endpoint');
    const err = await e.chat([{ role: 'user', content: 'hi' }], { temperature: 0, max_tokens: 2 }).catch((x: Error) => x);
    expect((err as Error).message).toBe(`reward.options.judge.endpoint: cannot reach ${s.url} (model m): ECONNREFUSED after 1 retry`);
  }, 30_000);

  it('429 and 5xx are retried with back-off, then succeed', async () => {
    const s = await stub((n) => (n === 0 ? { status: 429, body: { error: { message: 'slow down' } }, headers: { 'retry-after-ms': '20' } }
      : n === 1 ? { status: 503, body: { error: { message: 'busy' } }, headers: { 'retry-after-ms': '20' } } : { status: 200, body: ok('Score: 8') }));
    try {
      const e = createChatEndpoint({ base_url: s.url, model: 'm', max_retries: 3 }, 'generate.endpoint');
      const r = await e.chat([{ role: 'user', content: 'hi' }], { temperature: 0, max_tokens: 4 });
      expect(r).toMatchObject({ answer: 'Score: 8', reasoning: null, finishReason: 'stop', promptTokens: 3, completionTokens: 2 });
      expect(s.count()).toBe(3);
    } finally {
      await s.close();
    }
  });

  it('a 5xx that persists fails after the retries', async () => {
    const s = await stub(() => ({ status: 500, body: { error: { message: 'the engine failed: out of memory' } }, headers: { 'retry-after-ms': '10' } }));
    try {
      const e = createChatEndpoint({ base_url: s.url, model: 'm', max_retries: 2 }, 'generate.endpoint');
      await expect(e.chat([{ role: 'user', content: 'hi' }], { temperature: 0, max_tokens: 4 }))
        .rejects.toThrow(`generate.endpoint: ${s.url} (model m) answered 500: the engine failed: out of memory after 2 retries`);
      expect(s.count()).toBe(3);
    } finally {
      await s.close();
    }
  });

  it('a 401 names the key variable; a reply without choices is refused; a missing key variable fails at once', async () => {
    const s = await stub((n) => (n === 0 ? { status: 401, body: { error: { message: 'Invalid API key' } } } : { status: 200, body: { id: 'x', object: 'chat.completion', choices: [] } }));
    try {
      process.env.RAGRPO_TEST_KEY = 'k';
      const e = createChatEndpoint({ base_url: s.url, model: 'm', api_key_env: 'RAGRPO_TEST_KEY' }, 'generate.endpoint');
      await expect(e.chat([{ role: 'user', content: 'hi' }], { temperature: 0, max_tokens: 4 })).rejects.toThrow(/answered 401: Invalid API key \(check RAGRPO_TEST_KEY\)$/);
      await expect(e.chat([{ role: 'user', content: 'hi' }], { temperature: 0, max_tokens: 4 })).rejects.toThrow(/^generate\.endpoint: .* replied without choices/);
      expect(s.count()).toBe(2);
    } finally {
      delete process.env.RAGRPO_TEST_KEY;
      await s.close();
    }
    expect(() => createChatEndpoint({ base_url: 'http://127.0.0.1:1/v1', model: 'm', api_key_env: 'RAGRPO_NOT_SET_ANYWHERE' }, 'generate.endpoint'))
      .toThrow('generate.endpoint.api_key_env: the environment variable RAGRPO_NOT_SET_ANYWHERE is not set (it holds the API key of http://127.0.0.1:1/v1)');
  });

  it('DeepSeek\'s reasoning_content comes back as the reasoning, apart from the answer', async () => {
    const s = await stub(() => ({ status: 200, body: { ...ok('GRPO drops the critic.'), choices: [{ index: 0, message: { role: 'assistant', content: 'GRPO drops the critic.', reasoning_content: ' The user asks what GRPO is. ' }, finish_reason: 'stop' }] } }));
    try {
      const r = await createChatEndpoint({ base_url: s.url, model: 'deepseek-reasoner' }, 'generate.endpoint').chat([{ role: 'user', content: 'what is the GRPO?' }], { temperature: 0, max_tokens: 64 });
      expect(r).toMatchObject({ answer: 'GRPO drops the critic.', reasoning: 'The user asks what GRPO is.' });
    } finally {
      await s.close();
    }
  });

  it('the settings are validated with the section', () => {
    const bad = GenerateSection.safeParse({ endpoint: { base_url: 'localhost:8000', model: 'm' } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]).toMatchObject({ path: ['endpoint', 'base_url'], message: 'must be an http(s) URL such as http://127.0.0.1:8000/v1' });
    expect(GenerateSection.safeParse({ endpoint: { base_url: 'http://h/v1', model: 'm', api_key: 'x' } }).success).toBe(false);
    expect(GenerateSection.parse({ endpoint: { base_url: 'http://h/v1', model: 'm' } }).endpoint).toEqual({ base_url: 'http://h/v1', model: 'm', timeout_s: 600, max_retries: 3, concurrency: 4 });
  });
});
