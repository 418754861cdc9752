/**
 * evaluate's judge on an OpenAI-compatible endpoint (evaluate.options.judge.endpoint, or the reward stage's
 * reward.options.judge.endpoint through reward_spec.json) instead of a local model folder: the answers'
 * scores and the preference scorer's through a loopback stub that answers known judge texts (the expected
 * scores are worked out by hand below), the same path against `ragrpo serve` on a scratch model, the
 * settings' validation, and one line for an endpoint that cannot be reached.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe } from '@ragrpo/generate/testing';
import { EvaluateSection, loadPipelineText, type EvaluateConfig } from '@ragrpo/config';
import { buildScratchModel } from '@ragrpo/model';
import { DEFAULT_JUDGE_TEMPLATE, extractJudgeScore, type RewardSpec } from '@ragrpo/reward';
import {
  evaluationFunctions, evaluationJudge, evaluationRewards, scoreAnswers, scorePairsInReplicas, scorerSpec, sideText,
  type Answer, type EvalPrompt, type PairSides, type ScorerConfig,
} from '../src/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const resolve = (p: string) => path.resolve('/pipelines', p);
/** The before policy's folder: never opened when the judge has an endpoint. */
const NO_FOLDER = '/nonexistent/before-policy';

/**
 * What the stub judge says about each answer, and the 1-10 score a person reads in it (the default
 * template asks for "Score: N"; normalised scores are (N - 1) / 9).
 */
const JUDGE_TEXT: Record<string, { reply: string; score: number | null }> = {
  'Malbec from Mendoza': { reply: 'Score: 7', score: 7 },
  'A red wine': { reply: 'I would rate it 4/10: it names no wine.', score: 4 },
  '92 points': { reply: '<think>The context says 92 points; a 3 would be unfair.</think>**Score**: 10', score: 10 },
  'no idea': { reply: 'I cannot tell from this.', score: null },
};

/** A loopback chat endpoint that reads the answer out of the judge prompt's "Answer: ..." line. */
async function stubJudge() {
  const bodies: { model: string; temperature: number; max_tokens: number; messages: { role: string; content: string }[] }[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d) => { text += String(d); });
    req.on('end', () => {
      const body = JSON.parse(text) as (typeof bodies)[number];
      bodies.push(body);
      const answer = /\nAnswer: (.*)\n/.exec(body.messages[0].content)?.[1] ?? '';
      const content = JUDGE_TEXT[answer]?.reply ?? `unexpected answer ${JSON.stringify(answer)}`;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 0, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    bodies,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** A port nobody listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const prompt = (id: string, question: string, context: string): EvalPrompt => ({
  question_id: id, split: 'test', template: 'chat', question, reference: null, prompt: `Q: ${question}`, prompt_ids: [1, 2, 3], context, chunk_ids: [],
});
const answer = (text: string): Answer => ({ completion: text, answer: text, reasoning: null, ids: [5, 6], finishReason: 'stop' });
const TEST = [prompt('q1', 'Which grape is this wine?', 'Doc 1: A Malbec from Mendoza.'), prompt('q2', 'How many points?', 'Doc 1: Wine A scored 92 points.')];
/** Two answers per question: [question][sample]. */
const ANSWERS = [[answer('Malbec from Mendoza'), answer('A red wine')], [answer('92 points'), answer('no idea')]];

const evaluate = (e: Record<string, unknown>): EvaluateConfig => EvaluateSection.parse(e);
const trainSpec = (judge: Record<string, unknown>): RewardSpec => ({
  reward_funcs: ['judge'], reward_weights: [1], options: { judge }, custom: {}, scale_rewards: 'group', multi_objective_aggregation: 'sum_then_normalize',
});

/** evaluate's scoring of the answers as the stage does it: reward set, judge, functions, scores. */
async function evaluateScores(s: EvaluateConfig, train: RewardSpec | null) {
  const set = evaluationRewards(s, train, resolve);
  const judge = evaluationJudge(set.spec, s, resolve, NO_FOLDER);
  const scoring = await evaluationFunctions(set.spec, judge, ROOT);
  try {
    return { judge, values: await scoreAnswers(scoring.functions, TEST, ANSWERS) };
  } finally {
    await scoring.release();
  }
}

describe('evaluate.options.judge.endpoint on a stub judge', () => {
  let stub: Awaited<ReturnType<typeof stubJudge>>;
  beforeAll(async () => { stub = await stubJudge(); });
  afterAll(async () => { await stub?.close(); });

  it("scores every answer from the endpoint's reply: (N - 1) / 9, null where the reply has no score", async () => {
    stub.bodies.length = 0;
    const s = evaluate({ rewards: ['judge'], options: { judge: { endpoint: { base_url: stub.url, model: 'judge-7b', concurrency: 2 }, max_new_tokens: 12 } } });
    const { judge, values } = await evaluateScores(s, null);
    expect(judge.label).toBe('evaluate.options.judge');
    // [reward][question][sample]: Score: 7 -> 6/9; 4/10 -> 3/9; the <think> block's 92 and 3 are no score, 10 -> 9/9; no number -> null
    expect(values).toHaveLength(1);
    const [[q1, q2]] = values;
    expect(q1[0]).toBeCloseTo(0.6666667, 6);
    expect(q1[1]).toBeCloseTo(0.3333333, 6);
    expect(q2[0]).toBe(1);
    expect(q2[1]).toBeNull();
    // one request an answer: the judge prompt as one user message, greedy, max_new_tokens as max_tokens
    expect(stub.bodies).toHaveLength(4);
    for (const b of stub.bodies) {
      expect(b).toMatchObject({ model: 'judge-7b', temperature: 0, max_tokens: 12 });
      expect(b.messages).toHaveLength(1);
      expect(b.messages[0].role).toBe('user');
    }
    const first = stub.bodies.find((b) => b.messages[0].content.includes('Answer: 92 points'))?.messages[0].content ?? '';
    expect(first).toContain('Question: How many points?');
    expect(first).toContain('Doc 1: Wine A scored 92 points.');
  });

  it("uses the reward stage's endpoint from reward_spec.json, with evaluate's options over it", async () => {
    const s = evaluate({ options: { judge: { normalize: false } } });
    const { judge, values } = await evaluateScores(s, trainSpec({ endpoint: { base_url: stub.url, model: 'judge-7b', max_retries: 0 }, max_new_tokens: 8 }));
    // the endpoint is reward.options.judge's: errors name that setting
    expect(judge.label).toBe('reward.options.judge');
    // normalize: false -> the raw 1-10 numbers a person reads in the replies
    expect(values).toEqual([[[7, 4], [10, null]]]);
  });

  it('scores preference pairs with the judge on the endpoint, in worker-thread replicas', async () => {
    const s = evaluate({ rewards: ['judge'], options: { judge: { endpoint: { base_url: stub.url, model: 'judge-7b' } } }, preference: { scorer: 'judge', replicas: 2, batch_size: 1 } });
    const set = evaluationRewards(s, null, resolve);
    const spec = scorerSpec('judge', set, s, null, resolve);
    const config: ScorerConfig = { kind: 'reward', name: 'judge', spec, root: ROOT, judge: evaluationJudge(spec, s, resolve, NO_FOLDER) };
    const side = (a: string) => sideText(['Which grape is this wine?'], [a]);
    const pairs: PairSides[] = [
      { id: 'p1', a: side('Malbec from Mendoza'), b: side('A red wine') },
      { id: 'p2', a: side('92 points'), b: side('no idea') },
      { id: 'p3', a: side('no idea'), b: side('Malbec from Mendoza') },
    ];
    const r = await scorePairsInReplicas(config, pairs, { replicas: 2, batchSize: 1 });
    expect(r.errors).toEqual([]);
    expect(r.replica).toEqual([0, 1, 0]);
    const expected = [[6 / 9, 3 / 9], [1, null], [null, 6 / 9]];
    r.scores.forEach((pair, i) => pair.forEach((v, k) => {
      const e = expected[i][k];
      if (e === null) expect(v).toBeNull();
      else expect(v).toBeCloseTo(e, 6);
    }));
  });
});

describe('a judge endpoint that cannot be used is one line', () => {
  it('unreachable: names the setting, the endpoint and the cause', async () => {
    const port = await deadPort();
    const s = evaluate({ rewards: ['judge'], options: { judge: { endpoint: { base_url: `http://127.0.0.1:${port}/v1`, model: 'judge', max_retries: 0 } } } });
    const err = await evaluateScores(s, null).then(() => null, (e: Error) => e);
    // the reward library names the reward and the batch, the endpoint client the setting, the endpoint and the cause
    expect(err?.message).toBe(`reward 'judge' failed on the batch of question q1: evaluate.options.judge.endpoint: cannot reach http://127.0.0.1:${port}/v1 (model judge): ECONNREFUSED`);
    expect(err?.message).not.toContain('\n');
  });

  it('unreachable after retries (with back-off) says so; the reward stage\'s endpoint names its own setting', async () => {
    const port = await deadPort();
    const err = await evaluateScores(evaluate({}), trainSpec({ endpoint: { base_url: `http://127.0.0.1:${port}/v1`, model: 'judge', max_retries: 1 } })).then(() => null, (e: Error) => e);
    expect(err?.message).toBe(`reward 'judge' failed on the batch of question q1: reward.options.judge.endpoint: cannot reach http://127.0.0.1:${port}/v1 (model judge): ECONNREFUSED after 1 retry`);
  });

  it('a missing API key variable fails when the judge is set up, before anything is asked', async () => {
    const s = evaluate({ rewards: ['judge'], options: { judge: { endpoint: { base_url: 'https://api.deepseek.com', model: 'deepseek-chat', api_key_env: 'RAGRPO_TEST_UNSET_KEY' } } } });
    delete process.env.RAGRPO_TEST_UNSET_KEY;
    const set = evaluationRewards(s, null, resolve);
    await expect(evaluationFunctions(set.spec, evaluationJudge(set.spec, s, resolve, NO_FOLDER), ROOT)).rejects.toThrow(
      /^evaluate\.options\.judge\.endpoint\.api_key_env: the environment variable RAGRPO_TEST_UNSET_KEY is not set/,
    );
  });
});

describe("the judge's model or endpoint: evaluate's replaces the reward stage's", () => {
  it("evaluate's model folder drops reward_spec.json's endpoint, and the other way round", () => {
    const fromEndpoint = evaluationRewards(evaluate({ options: { judge: { model: 'models/judge' } } }), trainSpec({ endpoint: { base_url: 'http://127.0.0.1:1/v1', model: 'm' }, max_new_tokens: 8 }), resolve);
    expect(fromEndpoint.spec.options.judge).toEqual({ model: 'models/judge', max_new_tokens: 8 });
    const j = evaluationJudge(fromEndpoint.spec, evaluate({ options: { judge: { model: 'models/judge' } } }), resolve, NO_FOLDER);
    expect(j).toMatchObject({ folder: '/pipelines/models/judge', label: 'evaluate.options.judge' });
    expect(j.options.endpoint).toBeUndefined();

    const s = evaluate({ options: { judge: { endpoint: { base_url: 'http://127.0.0.1:8000/v1', model: 'smollm2' } } } });
    const toEndpoint = evaluationRewards(s, trainSpec({ model: 'models/judge', max_new_tokens: 8 }), resolve);
    expect(toEndpoint.spec.options.judge).toEqual({ endpoint: { base_url: 'http://127.0.0.1:8000/v1', model: 'smollm2', timeout_s: 600, max_retries: 3, concurrency: 4 }, max_new_tokens: 8 });
    // no model anywhere and no endpoint: the before policy's folder, as before
    expect(evaluationJudge(evaluationRewards(evaluate({ rewards: ['judge'] }), null, resolve).spec, evaluate({}), resolve, NO_FOLDER).folder).toBe(NO_FOLDER);
  });
});

describe('evaluate.options.judge.endpoint settings', () => {
  it("are validated as reward.options.judge's: defaults filled, a model or an endpoint, a URL", () => {
    const ok = evaluate({ options: { judge: { endpoint: { base_url: 'http://127.0.0.1:8000/v1', model: 'smollm2', api_key_env: 'MY_KEY' }, max_new_tokens: 8 } } });
    expect(ok.options.judge.endpoint).toEqual({ base_url: 'http://127.0.0.1:8000/v1', model: 'smollm2', api_key_env: 'MY_KEY', timeout_s: 600, max_retries: 3, concurrency: 4 });
    const both = EvaluateSection.safeParse({ options: { judge: { model: 'models/x', endpoint: { base_url: 'http://h/v1', model: 'm' } } } });
    expect(both.error?.issues[0]).toMatchObject({ path: ['options', 'judge', 'endpoint'], message: 'give the judge a model folder (model) or an endpoint, not both' });
    const url = EvaluateSection.safeParse({ options: { judge: { endpoint: { base_url: 'api.deepseek.com', model: 'deepseek-chat' } } } });
    expect(url.error?.issues[0]?.path).toEqual(['options', 'judge', 'endpoint', 'base_url']);
    const key = EvaluateSection.safeParse({ options: { judge: { endpoint: { base_url: 'https://api.deepseek.com', model: 'deepseek-chat', api_key: 'sk-...' } } } });
    expect(key.error?.issues[0]?.path).toEqual(['options', 'judge', 'endpoint']);
    expect(key.error?.issues[0]?.message).toMatch(/api_key/);
  });

  it('a pipeline file with both is refused at the line of the endpoint', () => {
    const yaml = `ingest:
  documents:
    - kind: csv
      path: data/wine.csv
      template: "{title}"
embed:
  sparse: {}
index:
  top_k: 5
rank:
  top_n: 3
evaluate:
  rewards: [judge]
  options:
    judge:
      model: models/judge
      endpoint: { base_url: "http://127.0.0.1:8000/v1", model: smollm2 }
`;
    expect(() => loadPipelineText(yaml, 'p.yaml')).toThrow(/^p\.yaml:17:\d+: evaluate\.options\.judge\.endpoint: give the judge a model folder \(model\) or an endpoint, not both/);
  });
});


describe('evaluate.options.judge.endpoint on ragrpo serve', () => {
  let dir: string;
  let serve: Awaited<ReturnType<typeof startServe>>;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'evaluate-judge-endpoint-'));
    const built = await buildScratchModel({
      // seed 1: this scratch model's greedy replies hold a number for one of the four answers (a 7), none for the rest
      out: path.join(dir, 'judge'), arch: 'llama', layers: 1, hidden: 32, heads: 2, intermediate: 64, maxPositions: 512, seed: 1,
      corpus: ['Score: 8. Score: 3. Score: 7. Score: 5. 7/10. 4 out of 10.'], vocabSize: 300, initStd: 0.2,
    });
    serve = await startServe(built.out);
  }, 120_000);
  afterAll(async () => { await serve?.stop(); if (dir) await rm(dir, { recursive: true, force: true }); });

  it("scores each answer from the server's greedy reply to its judge prompt", async () => {
    const s = evaluate({ rewards: ['judge'], options: { judge: { endpoint: { base_url: serve.url, model: 'judge' }, max_new_tokens: 6 } } });
    const { values } = await evaluateScores(s, null);
    // The same questions asked by hand: the default template filled in, posted with fetch (not the openai
    // client evaluate uses), each reply's score read and normalised.
    const expected: (number | null)[][] = [];
    for (const [qi, p] of TEST.entries()) {
      const row: (number | null)[] = [];
      for (const a of ANSWERS[qi]) {
        const content = DEFAULT_JUDGE_TEMPLATE.replace('{question}', p.question).replace('{context}', p.context).replace('{answer}', a.answer);
        const res = await fetch(`${serve.url}/chat/completions`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'judge', messages: [{ role: 'user', content }], temperature: 0, max_tokens: 6, seed: 0 }),
        });
        const reply = ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0].message.content;
        const n = extractJudgeScore(reply);
        row.push(n === null ? null : (n - 1) / 9);
      }
      expected.push(row);
    }
    // not all null: some reply did carry a score, so the comparison says something
    expect(expected.flat().filter((v) => v !== null).length).toBeGreaterThan(0);
    expect(values).toEqual([expected]);
  });
});
