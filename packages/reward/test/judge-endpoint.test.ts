/**
 * The judge reward on an OpenAI-compatible endpoint (reward.options.judge.endpoint) instead of a local model:
 * against `ragrpo serve` (the linked bin, on a scratch model), against a stub that scores, the settings'
 * validation, and one line for an endpoint that cannot be reached or answers 4xx.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe } from '@ragrpo/generate/testing';
import { RewardSection } from '@ragrpo/config';
import { buildScratchModel } from '@ragrpo/model';
import { createRewardFunction, type JudgeStats } from '../src/index.ts';
import { endpointJudge, judgeGenerator } from '../src/stage/judge-model.ts';
import { batchOf } from './helpers.ts';



const batch = batchOf([
  { question: 'How many points?', context: 'Wine A: 92 points.', completion: '92 points' },
  { question: 'How many points?', context: 'Wine A: 92 points.', completion: 'I do not know' },
]);

describe('judge on ragrpo serve', () => {
  let dir: string;
  let serve: Awaited<ReturnType<typeof startServe>>;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'judge-endpoint-'));
    const built = await buildScratchModel({
      out: path.join(dir, 'judge'), arch: 'llama', layers: 1, hidden: 32, heads: 2, intermediate: 64, maxPositions: 512, seed: 2,
      corpus: ['Rate the answer. Score: 8. Score: 3. The wine scored 92 points.'], vocabSize: 300, initStd: 0.2,
    });
    serve = await startServe(built.out);
  }, 120_000);
  afterAll(async () => { await serve?.stop(); await rm(dir, { recursive: true, force: true }); });

  it('asks the endpoint once per completion and reads a score (or null) from each reply', async () => {
    const j = await judgeGenerator({ endpoint: { base_url: serve.url, model: 'judge' }, max_new_tokens: 6 }, () => Promise.reject(new Error('no local model with an endpoint')));
    const replies = await j.generateText(['Rate this: 92 points', 'Rate this: I do not know']);
    expect(replies).toHaveLength(2);
    expect(replies.every((r) => typeof r === 'string')).toBe(true);
    let stats: JudgeStats | null = null;
    const fn = createRewardFunction('judge', {}, { generateText: j.generateText, onJudgeStats: (s) => { stats = s; } });
    const scores = await fn(batch);
    expect(scores).toHaveLength(2);
    expect(stats).toMatchObject({ replies: 2, totalReplies: 2 });
    // the judge is greedy: the same replies twice
    expect(await j.generateText(['Rate this: 92 points', 'Rate this: I do not know'])).toEqual(replies);
  }, 120_000);

  it('a model the endpoint does not serve is one line naming the setting', async () => {
    const j = endpointJudge({ base_url: serve.url, model: 'gpt-4o', max_retries: 0 }, { maxNewTokens: 4 });
    await expect(j.generateText(['Rate this'])).rejects.toThrow(/^reward\.options\.judge\.endpoint: http:\/\/127\.0\.0\.1:\d+\/v1 \(model gpt-4o\) answered 404: The model 'gpt-4o' does not exist/);
  });
});

describe('judge on a stub endpoint', () => {
  it('scores from the replies, greedily, with the judge prompt as one user message', async () => {
    const bodies: Record<string, unknown>[] = [];
    const server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (d) => { text += String(d); });
      req.on('end', () => {
        const body = JSON.parse(text) as { messages: { content: string }[] };
        bodies.push(body);
        const good = body.messages[0].content.includes('Answer: 92 points');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 0, model: 'judge', choices: [{ index: 0, message: { role: 'assistant', content: good ? '<think>It matches the context.</think>Score: 10' : 'Score: 1' }, finish_reason: 'stop' }] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const j = endpointJudge({ base_url: url, model: 'judge', concurrency: 2 }, { maxNewTokens: 16 });
      const fn = createRewardFunction('judge', {}, { generateText: j.generateText });
      expect(await fn(batch)).toEqual([1, 0]);
      expect(bodies).toHaveLength(2);
      for (const b of bodies) {
        expect(b).toMatchObject({ model: 'judge', temperature: 0, max_tokens: 16 });
        expect((b.messages as unknown[]).length).toBe(1);
      }
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('an endpoint nobody listens on is one line', async () => {
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const j = endpointJudge({ base_url: `http://127.0.0.1:${port}/v1`, model: 'judge', max_retries: 0 }, { maxNewTokens: 4 });
    const fn = createRewardFunction('judge', {}, { generateText: j.generateText });
    await expect(fn(batch)).rejects.toThrow(`reward.options.judge.endpoint: cannot reach http://127.0.0.1:${port}/v1 (model judge): ECONNREFUSED`);
  });
});

describe('reward.options.judge.endpoint settings', () => {
  it('are validated with the section: defaults filled, one of model or endpoint, a URL', () => {
    const ok = RewardSection.parse({ reward_funcs: ['judge'], options: { judge: { endpoint: { base_url: 'http://127.0.0.1:8000/v1', model: 'smollm2' }, max_new_tokens: 8 } } });
    expect(ok.options.judge.endpoint).toEqual({ base_url: 'http://127.0.0.1:8000/v1', model: 'smollm2', timeout_s: 600, max_retries: 3, concurrency: 4 });
    const both = RewardSection.safeParse({ reward_funcs: ['judge'], options: { judge: { model: 'models/x', endpoint: { base_url: 'http://h/v1', model: 'm' } } } });
    expect(both.error!.issues[0]).toMatchObject({ path: ['options', 'judge', 'endpoint'], message: 'give the judge a model folder (model) or an endpoint, not both' });
    const url = RewardSection.safeParse({ reward_funcs: ['judge'], options: { judge: { endpoint: { base_url: 'api.deepseek.com', model: 'deepseek-chat' } } } });
    expect(url.error!.issues[0].path).toEqual(['options', 'judge', 'endpoint', 'base_url']);
    const key = RewardSection.safeParse({ reward_funcs: ['judge'], options: { judge: { endpoint: { base_url: 'https://api.deepseek.com', model: 'deepseek-chat', api_key: 'sk-...' } } } });
    expect(key.error!.issues[0].path).toEqual(['options', 'judge', 'endpoint']);
    expect(key.error!.issues[0].message).toMatch(/api_key/);
  });
});
