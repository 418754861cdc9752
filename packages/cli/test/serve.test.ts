/**
 * `ragrpo serve`, through the official `openai` npm client only (no hand-made requests):
 *   - the protocol on a scripted engine (fast and exact): models, messages, reasoning_content, streaming chunks,
 *     usage, finish_reason stop/length, stop sequences, n, 400s naming the field, 404, 401, one request at a time;
 *   - the real engine on a tiny GGUF model: seeded replies, stream = non-stream, the chat template's token count;
 *   - the linked bin (`node_modules/.bin/ragrpo serve --port 0`) on SmolLM2 when models/smollm2-135m-instruct
 *     exists ("Paris"), else on the tiny model (said so).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type ChatMessage } from '@ragrpo/model';
import { viewChoice } from '../src/serve/choice-text.ts';
import { loadPolicyEngine, type ChatEngine, type EngineParams, type EngineRow } from '../src/serve/policy-engine.ts';
import { startChatServer, type RunningServer } from '../src/serve/server.ts';
import { splitReasoning } from '@ragrpo/generate';
import { main } from '../src/index.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const BIN = path.join(ROOT, 'node_modules/.bin/ragrpo');
const SMOLLM2 = path.join(ROOT, 'models', 'smollm2-135m-instruct');
const hasSmollm2 = fs.existsSync(path.join(SMOLLM2, 'model.safetensors'));
if (!hasSmollm2) console.warn(`serve.test.ts: 'ragrpo serve' bin test runs on the tiny model: ${path.relative(ROOT, SMOLLM2)} is absent (npx tsx tools/models/fetch.ts all)`);

/**
 * A scripted model: one token per character of a reply chosen by the last user message, then EOS.
 * Records how many generate() calls overlap (the server must run them one at a time).
 */
class ScriptEngine implements ChatEngine {
  readonly modelId = 'script-model';
  readonly created = 1_700_000_000;
  readonly contextLength = 200;
  readonly defaults = { temperature: null, topP: null, topK: null, repetitionPenalty: null };
  active = 0;
  maxActive = 0;
  calls: EngineParams[] = [];
  static readonly EOS = 0;

  reply(messages: ChatMessage[]): string {
    const last = messages[messages.length - 1].content;
    if (last.includes('think')) return '<think>\n Let me see: France.  \n</think>\n\nParis. ';
    if (last.includes('long')) return 'abcdefghijklmnopqrstuvwxyz'.repeat(4);
    if (last.includes('unicode')) return 'Grüße ✓ 東京';
    return 'Hello there. STOP here.';
  }

  render(messages: ChatMessage[]) {
    const text = messages.map((m) => `<${m.role}>${m.content}`).join('') + '<assistant>';
    this.lastReply = this.reply(messages);
    return { ids: [...text].map((c) => c.codePointAt(0)!), opensThink: false };
  }

  private lastReply = '';

  async generate(_ids: number[], p: EngineParams, onText: (row: number, text: string) => boolean): Promise<EngineRow[]> {
    this.calls.push(p);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      const chars = [...this.lastReply];
      const rows: EngineRow[] = Array.from({ length: p.n }, () => ({ tokens: [], logprobs: [], finish: 'length' }));
      const done = rows.map(() => false);
      for (let step = 0; step < p.maxTokens && done.includes(false); step++) {
        await new Promise((r) => setTimeout(r, 1));
        rows.forEach((row, r) => {
          if (done[r]) return;
          const c = chars[step];
          row.tokens.push(c === undefined ? ScriptEngine.EOS : c.codePointAt(0)!);
          row.logprobs.push(-0.5);
          const text = String.fromCodePoint(...row.tokens.filter((t) => t !== ScriptEngine.EOS));
          const stop = onText(r, text);
          if (c === undefined) { done[r] = true; row.finish = 'eos'; } else if (stop) { done[r] = true; row.finish = 'stop'; }
        });
      }
      return rows;
    } finally {
      this.active--;
    }
  }

  tokenText(id: number): string {
    return id === ScriptEngine.EOS ? '<eos>' : String.fromCodePoint(id);
  }

  async close() {
    this.active = 0;
  }
}

const user = (content: string) => [{ role: 'user' as const, content }];

async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const c of stream) chunks.push(c);
  const byChoice = new Map<number, { content: string; reasoning: string; finish: string | null }>();
  for (const c of chunks) {
    for (const ch of c.choices) {
      const e = byChoice.get(ch.index) ?? { content: '', reasoning: '', finish: null };
      e.content += ch.delta.content ?? '';
      e.reasoning += (ch.delta as { reasoning_content?: string }).reasoning_content ?? '';
      if (ch.finish_reason) e.finish = ch.finish_reason;
      byChoice.set(ch.index, e);
    }
  }
  return { chunks, byChoice };
}

describe('the protocol (scripted engine, openai client)', () => {
  let engine: ScriptEngine;
  let srv: RunningServer;
  let client: OpenAI;
  const logs: string[] = [];

  beforeAll(async () => {
    engine = new ScriptEngine();
    srv = await startChatServer({ engine, port: 0, log: (l) => logs.push(l) });
    client = new OpenAI({ baseURL: srv.url, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(() => srv.close());

  it('listens on loopback and lists its one model', async () => {
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual(['script-model']);
    expect((await client.models.retrieve('script-model')).owned_by).toBe('ragrpo');
    await expect(client.models.retrieve('gpt-4o')).rejects.toMatchObject({ status: 404 });
  });

  it('answers a chat completion with usage and finish_reason stop (EOS)', async () => {
    const r = await client.chat.completions.create({ model: 'script-model', messages: [{ role: 'system', content: 'Be brief.' }, ...user('hi')] });
    expect(r.object).toBe('chat.completion');
    expect(r.id).toMatch(/^chatcmpl-/);
    expect(r.choices).toHaveLength(1);
    expect(r.choices[0].message).toMatchObject({ role: 'assistant', content: 'Hello there. STOP here.' });
    expect(r.choices[0].message).not.toHaveProperty('reasoning_content');
    expect(r.choices[0].finish_reason).toBe('stop');
    const prompt = '<system>Be brief.<user>hi<assistant>'.length;
    expect(r.usage).toEqual({ prompt_tokens: prompt, completion_tokens: 24, total_tokens: prompt + 24 });
    // The sampling options reach the engine; OpenAI's defaults fill the rest.
    expect(engine.calls.at(-1)).toMatchObject({ temperature: 1, topP: 1, topK: 0, minP: 0, repetitionPenalty: 1, n: 1, maxTokens: 200 - prompt });
    await client.chat.completions.create({ model: 'script-model', messages: user('hi'), temperature: 0.3, top_p: 0.9, seed: 7, max_tokens: 50, top_k: 20, min_p: 0.05, repetition_penalty: 1.1 } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
    expect(engine.calls.at(-1)).toEqual({ temperature: 0.3, topP: 0.9, topK: 20, minP: 0.05, repetitionPenalty: 1.1, n: 1, maxTokens: 50, seed: 7 });
  });

  it('returns a <think> block as reasoning_content, as DeepSeek does', async () => {
    const r = await client.chat.completions.create({ model: 'script-model', messages: user('think first') });
    const m = r.choices[0].message as typeof r.choices[0]['message'] & { reasoning_content?: string };
    expect(m.reasoning_content).toBe('Let me see: France.');
    expect(m.content).toBe('Paris. ');
  });

  it('streams OpenAI chunks that join to the non-streamed reply, with usage last', async () => {
    for (const q of ['think first', 'hi', 'unicode please']) {
      const whole = await client.chat.completions.create({ model: 'script-model', messages: user(q) });
      const stream = await client.chat.completions.create({ model: 'script-model', messages: user(q), stream: true, stream_options: { include_usage: true } });
      const { chunks, byChoice } = await collect(stream);
      const m = whole.choices[0].message as { content: string; reasoning_content?: string };
      expect(byChoice.get(0)).toEqual({ content: m.content, reasoning: m.reasoning_content ?? '', finish: 'stop' });
      expect(chunks[0].choices[0].delta.role).toBe('assistant');
      expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id)).toBe(true);
      expect(chunks.length).toBeGreaterThan(4);
      const last = chunks.at(-1)!;
      expect(last.choices).toEqual([]);
      expect(last.usage).toEqual(whole.usage);
    }
  });

  it('finish_reason length at max_tokens (and max_completion_tokens)', async () => {
    const r = await client.chat.completions.create({ model: 'script-model', messages: user('long'), max_tokens: 5 });
    expect(r.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'abcde' } });
    expect(r.usage?.completion_tokens).toBe(5);
    const s = await collect(await client.chat.completions.create({ model: 'script-model', messages: user('long'), max_completion_tokens: 7, stream: true }));
    expect(s.byChoice.get(0)).toEqual({ content: 'abcdefg', reasoning: '', finish: 'length' });
  });

  it('ends the reply before a stop sequence (not included), streamed or not', async () => {
    const r = await client.chat.completions.create({ model: 'script-model', messages: user('hi'), stop: ['STOP', 'zzz'] });
    expect(r.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: 'Hello there. ' } });
    expect(r.usage?.completion_tokens).toBe('Hello there. STOP'.length);
    const s = await collect(await client.chat.completions.create({ model: 'script-model', messages: user('hi'), stop: 'STOP', stream: true }));
    expect(s.byChoice.get(0)).toEqual({ content: 'Hello there. ', reasoning: '', finish: 'stop' });
  });

  it('returns n choices, and per-token logprobs on request', async () => {
    const r = await client.chat.completions.create({ model: 'script-model', messages: user('hi'), n: 3, logprobs: true });
    expect(r.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(r.choices.map((c) => c.message.content))).toEqual(new Set(['Hello there. STOP here.']));
    expect(r.usage?.completion_tokens).toBe(3 * 24);
    const lp = r.choices[0].logprobs!.content!;
    expect(lp.map((t) => t.token).join('')).toBe('Hello there. STOP here.');
    expect(lp[0]).toEqual({ token: 'H', logprob: -0.5, bytes: [72], top_logprobs: [] });
    const s = await collect(await client.chat.completions.create({ model: 'script-model', messages: user('think'), n: 2, stream: true }));
    expect([...s.byChoice.keys()].sort()).toEqual([0, 1]);
    expect(s.byChoice.get(1)).toEqual({ content: 'Paris. ', reasoning: 'Let me see: France.', finish: 'stop' });
  });

  it('refuses a bad body with one 400 naming the field', async () => {
    const bad = async (body: Record<string, unknown>) => {
      try {
        await client.chat.completions.create({ model: 'script-model', messages: user('hi'), ...body } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
      } catch (e) {
        return e as InstanceType<typeof OpenAI.APIError>;
      }
      throw new Error(`accepted ${JSON.stringify(body)}`);
    };
    const t = await bad({ temperature: 5 });
    expect(t).toBeInstanceOf(OpenAI.BadRequestError);
    expect(t.status).toBe(400);
    expect(t.message).toMatch(/^400 temperature: /);
    expect(t.param).toBe('temperature');
    expect((await bad({ foo: 1 })).message).toBe('400 Unrecognized request argument supplied: foo');
    expect((await bad({ messages: [] })).param).toBe('messages');
    expect((await bad({ messages: [{ role: 'user' }] })).message).toMatch(/^400 messages\[0\]\.content: required/);
    expect((await bad({ messages: [{ role: 'tool', content: 'x', tool_call_id: 'a' }] })).param).toBe('messages[0].role');
    expect((await bad({ n: 0 })).param).toBe('n');
    expect((await bad({ max_tokens: 1.5 })).param).toBe('max_tokens');
    expect((await bad({ tools: [{ type: 'function', function: { name: 'f' } }] })).message).toMatch(/tools: tool calling is not supported/);
    expect((await bad({ frequency_penalty: 0.5 })).message).toMatch(/frequency_penalty is not supported: use repetition_penalty/);
    expect((await bad({ top_logprobs: 3, logprobs: true })).param).toBe('top_logprobs');
    expect((await bad({ max_tokens: 1000 })).message).toMatch(/maximum context length is 200 tokens/);
    const m = await bad({ model: 'gpt-4o' });
    expect(m).toBeInstanceOf(OpenAI.NotFoundError);
    expect(m.message).toMatch(/The model 'gpt-4o' does not exist; this server serves 'script-model'/);
  });

  it('runs one request at a time (one engine)', async () => {
    engine.maxActive = 0;
    const rs = await Promise.all([1, 2, 3, 4].map(() => client.chat.completions.create({ model: 'script-model', messages: user('long'), max_tokens: 20 })));
    expect(rs.every((r) => r.choices[0].message.content === 'abcdefghijklmnopqrst')).toBe(true);
    expect(engine.maxActive).toBe(1);
    expect(logs.some((l) => /^POST \/v1\/chat\/completions 200 \(20 tokens, /.test(l))).toBe(true);
  });

  it('needs the API key when one is set (401 otherwise)', async () => {
    const locked = await startChatServer({ engine, port: 0, apiKey: 'sekret' });
    try {
      const wrong = new OpenAI({ baseURL: locked.url, apiKey: 'nope', maxRetries: 0 });
      await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
      const right = new OpenAI({ baseURL: locked.url, apiKey: 'sekret', maxRetries: 0 });
      expect((await right.chat.completions.create({ model: 'script-model', messages: user('hi') })).choices[0].message.content).toBe('Hello there. STOP here.');
    } finally {
      await locked.close();
    }
  });
});

describe('the <think> view', () => {
  it('agrees with generate\'s splitReasoning on whole texts', () => {
    for (const t of ['<think>a b</think> answer', '  <think>\nx\n</think>\n\ny', '<think>never closed', 'plain answer', '<thin', '']) {
      const v = viewChoice(t, { opensThink: false, stops: [], final: true });
      const s = splitReasoning(t);
      expect(v.reasoning).toBe(s.reasoning);
      expect(v.content.trim()).toBe(s.answer);
    }
    // A generation prompt that opens the block (DeepSeek-R1's template): the reply starts inside it.
    expect(viewChoice('thinking</think>\nanswer', { opensThink: true, stops: [], final: true })).toEqual({ reasoning: 'thinking', content: 'answer', stopped: false });
  });

  it('holds back what may still change while the text is incomplete', () => {
    expect(viewChoice('<thi', { opensThink: false, stops: [], final: false }).content).toBe('');
    expect(viewChoice('<think>abc </th', { opensThink: false, stops: [], final: false }).reasoning).toBe('abc');
    expect(viewChoice('Hello ST', { opensThink: false, stops: ['STOP'], final: false }).content).toBe('Hello ');
    expect(viewChoice('Grü\uFFFD', { opensThink: false, stops: [], final: false }).content).toBe('Grü');
  });
});

describe('the real engine (tiny GGUF model)', () => {
  let dir: string;
  let model: string;
  let srv: RunningServer;
  let engine: ChatEngine;
  let client: OpenAI;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ragrpo-serve-'));
    const gguf = path.join(dir, 'tiny.gguf');
    model = path.join(dir, 'tiny');
    await run(TSX, [path.join(ROOT, 'packages/gguf/test/tiny-gguf.ts'), '--out', gguf, '--arch', 'llama', '--quant', 'q8_0']);
    let err = '';
    expect(await main(['node', 'ragrpo', 'import-gguf', gguf, '--out', model], { out: () => undefined, err: (s) => { err += s; } }), err).toBe(0);
    engine = await loadPolicyEngine({ model });
    srv = await startChatServer({ engine, port: 0 });
    client = new OpenAI({ baseURL: srv.url, apiKey: 'unused', maxRetries: 0 });
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    await engine?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('renders the chat template, counts its tokens, and samples reproducibly under a seed', async () => {
    expect(engine.modelId).toBe('tiny');
    const messages = [{ role: 'system' as const, content: 'You are terse.' }, ...user('The capital of France?')];
    const a = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 12, temperature: 0.8, seed: 3 });
    const b = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 12, temperature: 0.8, seed: 3 });
    expect(b.choices[0].message.content).toBe(a.choices[0].message.content);
    const tok = (await loadModel(model)).tokenizer!;
    expect(a.usage?.prompt_tokens).toBe(tok.encode(tok.applyChatTemplate(messages, { addGenerationPrompt: true }), { addSpecialTokens: false }).length);
    expect(a.usage!.completion_tokens).toBeLessThanOrEqual(12);
    expect(a.choices[0].finish_reason).toBe(a.usage!.completion_tokens === 12 ? 'length' : 'stop');
    const s = await collect(await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 12, temperature: 0.8, seed: 3, stream: true }));
    expect(s.byChoice.get(0)!.content).toBe(a.choices[0].message.content);
    // n choices come from one prefill; greedy choices are all the same.
    const g = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 8, temperature: 0, n: 3 });
    expect(new Set(g.choices.map((c) => c.message.content)).size).toBe(1);
  }, 120_000);
});

describe('the bin: ragrpo serve', () => {
  let dir: string;
  let child: ChildProcess | null = null;
  afterAll(() => {
    child?.kill('SIGKILL');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`serves ${hasSmollm2 ? 'SmolLM2-135M-Instruct' : 'the tiny model'} on a free port until SIGTERM`, async () => {
    let folder = SMOLLM2;
    if (!hasSmollm2) {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ragrpo-serve-bin-'));
      await run(TSX, [path.join(ROOT, 'packages/gguf/test/tiny-gguf.ts'), '--out', path.join(dir, 't.gguf'), '--arch', 'llama', '--quant', 'q8_0']);
      await run(BIN, ['import-gguf', path.join(dir, 't.gguf'), '--out', path.join(dir, 'tiny')], { cwd: ROOT });
      folder = path.join(dir, 'tiny');
    }
    const c = spawn(BIN, ['serve', '--model', folder, '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let err = '';
    c.stderr!.on('data', (d) => { err += String(d); });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      c.stdout!.on('data', (d) => {
        out += String(d);
        const m = /on (http:\/\/127\.0\.0\.1:\d+\/v1) /.exec(out);
        if (m) resolve(m[1]);
      });
      c.on('exit', (code) => reject(new Error(`ragrpo serve exited ${code}: ${err}`)));
    });
    const client = new OpenAI({ baseURL: url, apiKey: 'unused', maxRetries: 0 });
    const id = (await client.models.list()).data[0].id;
    expect(id).toBe(path.basename(folder));
    const q = user('What is the capital of France? Answer in one word.');
    const r = await client.chat.completions.create({ model: id, messages: q, temperature: 0, max_tokens: 12 });
    const s = await collect(await client.chat.completions.create({ model: id, messages: q, temperature: 0, max_tokens: 12, stream: true }));
    expect(s.byChoice.get(0)!.content).toBe(r.choices[0].message.content);
    if (hasSmollm2) expect(r.choices[0].message.content).toMatch(/Paris/);
    const exited = new Promise<number | null>((resolve) => c.on('exit', (code) => resolve(code)));
    c.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = null;
    expect(err).toMatch(/POST \/v1\/chat\/completions 200/);
  }, 180_000);

  it('fails at once with one line for a folder that is not a model', async () => {
    const r = await run(BIN, ['serve', '--model', path.join(os.tmpdir(), 'no-such-model-folder')], { cwd: ROOT }).catch((e) => e as { code: number; stderr: string });
    expect((r as { code: number }).code).toBe(1);
    expect((r as { stderr: string }).stderr).toMatch(/^ragrpo: --model .*no-such-model-folder: no config\.json in .*\n$/);
  }, 60_000);
});
