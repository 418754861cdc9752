/**
 * `ragrpo reward-server --pipeline FILE --port N`: every reward of a pipeline over loopback HTTP with TRL's
 * reward-function contract, for the TRL hand-off (export-trl's train_trl.py) or any other trainer.
 *
 *   GET  /health   -> { ok: true, batches, completions }   (scored so far)
 *   GET  /rewards  -> { reward_funcs, reward_weights, scale_rewards, multi_objective_aggregation, spec_sha256 }
 *   POST /score    <- { prompts, completions, completion_ids, columns: { question_id, question, reference, context, ... }, rewards? }
 *                  -> { rewards: { <name>: (number | null)[] }, completions: n, seconds }
 *
 * One entry per completion everywhere (a group repeats its prompt). A prompt or completion is a string or
 * a list of chat messages ({ role, content }: a completion's text is its assistant contents). Completions are
 * split into answer and reasoning (`<think>`) as ragrpo's own loop does. `rewards` picks some of the served
 * rewards (default all). Weights are not applied: TRL applies them (`reward_weights`). A malformed request
 * is answered 400 with one message naming the field; a body over the limit 413; a reward that fails 500.
 * Requests are scored one at a time (model-backed rewards share the CPU).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { z } from 'zod';
import { loadPipeline, stageFolder } from '@ragrpo/config';
import { policyFolder, readPolicyRecord } from '@ragrpo/contracts';
import { splitReasoning } from '@ragrpo/generate';
import { localJudge, rewardFunctions, rewardSpec, scoreRewards, type NamedReward, type RewardBatch, type RewardDeps, type RewardSpec } from '@ragrpo/reward';

/** The server binds here only: it runs user reward code and has no authentication. */
export const REWARD_SERVER_HOST = '127.0.0.1';
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

interface Out { out: (s: string) => void; err: (s: string) => void }

export interface RewardServerOptions {
  pipeline: string;
  /** 0: any free port (the listening line says which). */
  port: number;
  /** Workspace root: relative paths in the pipeline file are resolved against it. Default the working directory. */
  root?: string;
  maxBodyBytes?: number;
}

export interface RewardServer {
  url: string;
  port: number;
  spec: RewardSpec;
  specSha256: string;
  server: Server;
  close(): Promise<void>;
}

const Message = z.object({ role: z.string(), content: z.string().nullable() }).passthrough();
const Text = z.union([z.string(), z.array(Message)]);
const REQUIRED_COLUMNS = ['question_id', 'question', 'reference', 'context'] as const;
const ScoreRequest = z.strictObject({
  prompts: z.array(Text),
  completions: z.array(Text),
  completion_ids: z.array(z.array(z.number().int().min(0))),
  columns: z.record(z.string(), z.array(z.unknown())),
  rewards: z.array(z.string()).min(1).optional(),
});
type ScoreRequest = z.infer<typeof ScoreRequest>;

/** A client's mistake: answered with its status and one message naming the field. */
class RequestError extends Error {
  constructor(readonly status: number, readonly field: string | null, message: string) { super(field ? `${field}: ${message}` : message); }
}

const fieldOf = (p: readonly PropertyKey[]) => p.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '');

/** The request body checked against the contract (zod), then its lengths and reward names. */
export function parseScoreRequest(body: unknown, served: readonly string[]): ScoreRequest {
  const parsed = ScoreRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = fieldOf(issue.path) || 'body';
    throw new RequestError(400, field, issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}; expected prompts, completions, completion_ids, columns, rewards` : issue.message);
  }
  const r = parsed.data;
  const n = r.completions.length;
  if (n === 0) throw new RequestError(400, 'completions', 'empty: send at least one completion');
  const perCompletion: [string, unknown[]][] = [['prompts', r.prompts], ['completion_ids', r.completion_ids]];
  for (const c of REQUIRED_COLUMNS) {
    if (!(c in r.columns)) throw new RequestError(400, `columns.${c}`, `required (one entry per completion: the dataset column every reward receives)`);
  }
  for (const [k, v] of Object.entries(r.columns)) perCompletion.push([`columns.${k}`, v]);
  for (const [field, values] of perCompletion) {
    if (values.length !== n) throw new RequestError(400, field, `has ${values.length} entries for ${n} completions (one per completion)`);
  }
  const strings = (c: string, nullable: boolean) => r.columns[c].forEach((v, i) => {
    if (!(typeof v === 'string' || (nullable && v === null))) throw new RequestError(400, `columns.${c}[${i}]`, `expected a string${nullable ? ' or null' : ''}`);
  });
  strings('question_id', false); strings('question', false); strings('context', false); strings('reference', true);
  (r.rewards ?? []).forEach((name, i) => {
    if (!served.includes(name)) throw new RequestError(400, `rewards[${i}]`, `unknown reward '${name}'; this server serves ${served.join(', ')}`);
  });
  return r;
}

const textOf = (t: z.infer<typeof Text>, role?: string) =>
  (typeof t === 'string' ? t : t.filter((m) => role === undefined || m.role === role).map((m) => m.content ?? '').join(role ? '' : '\n\n'));

/** TRL's batch as ragrpo's RewardBatch: completions split into answer and reasoning, as grpo-train scores them. */
export function rewardBatchOf(r: ScoreRequest): RewardBatch {
  const split = r.completions.map((c) => splitReasoning(textOf(c, Array.isArray(c) ? 'assistant' : undefined)));
  const columns = { ...r.columns } as RewardBatch['columns'];
  if (!('reasoning' in columns)) columns.reasoning = split.map((s) => s.reasoning);
  return { prompts: r.prompts.map((p) => textOf(p)), completions: split.map((s) => s.answer), completionIds: r.completion_ids, columns };
}

/**
 * The request body as JSON, at most `limit` bytes kept in memory. A longer body is read on and dropped (up to
 * 16 x the limit), so the 413 reaches the client before the connection closes; past that the socket is cut.
 */
function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const tooLarge = (n: number) => new RequestError(413, 'body', `${n} bytes is over the limit of ${limit} bytes (send smaller batches, or raise --max-body-mb)`);
    const declared = Number(req.headers['content-length']);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > 16 * limit) { req.destroy(); reject(tooLarge(size)); }
    });
    req.on('end', () => {
      if (size > limit) return reject(tooLarge(Number.isFinite(declared) ? declared : size));
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (e) {
        reject(new RequestError(400, 'body', `not valid JSON (${(e as Error).message})`));
      }
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The judge's model as the reward stage finds it: judge.model, else the pipeline's policy stage record. */
async function judgeFolder(spec: RewardSpec, root: string, pipelineName: string): Promise<string> {
  const model = spec.options.judge?.model;
  if (typeof model === 'string') return path.resolve(root, model);
  const record = path.join(stageFolder(root, pipelineName, 'policy'), 'policy.json');
  if (!existsSync(record)) throw new Error(`reward.options.judge.model: not set, and ${record} is missing; name the judge's model folder or run the policy stage first (npx nx run ${pipelineName}:policy)`);
  return policyFolder(await readPolicyRecord(record), record, root);
}

/** Loads the pipeline's rewards (exactly as the reward stage configures them) and starts serving on 127.0.0.1. */
export async function startRewardServer(o: RewardServerOptions): Promise<RewardServer> {
  const root = path.resolve(o.root ?? process.cwd());
  const pipeline = loadPipeline(path.resolve(root, o.pipeline));
  const section = pipeline.config.reward;
  if (!section) throw new Error(`${pipeline.file}: has no reward: section, so there are no rewards to serve`);
  const spec = rewardSpec(section, (p) => path.resolve(root, p));
  // The same text the reward stage writes as reward_spec.json: export-trl records its sha256, train_trl.py compares.
  const specSha256 = createHash('sha256').update(JSON.stringify(spec, null, 2) + '\n').digest('hex');
  const deps: RewardDeps = { root };
  let judge: Awaited<ReturnType<typeof localJudge>> | null = null;
  if (spec.reward_funcs.includes('judge')) {
    judge = await localJudge(await judgeFolder(spec, root, pipeline.name), { maxNewTokens: Number(spec.options.judge?.max_new_tokens ?? 16) });
    deps.generateText = judge.generateText;
  }
  let functions: NamedReward[];
  try {
    functions = await rewardFunctions(spec, deps);
  } catch (e) {
    await judge?.release();
    throw e;
  }
  const limit = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const info = {
    reward_funcs: spec.reward_funcs, reward_weights: spec.reward_weights, scale_rewards: spec.scale_rewards,
    multi_objective_aggregation: spec.multi_objective_aggregation, spec_sha256: specSha256, pipeline: path.relative(root, pipeline.file),
  };
  let queue: Promise<unknown> = Promise.resolve();
  const scored = { batches: 0, completions: 0 };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${REWARD_SERVER_HOST}`);
    const routes: Record<string, string> = { '/health': 'GET', '/rewards': 'GET', '/score': 'POST' };
    if (!(url.pathname in routes)) throw new RequestError(404, null, `no ${url.pathname}: GET /health, GET /rewards, POST /score`);
    if (req.method !== routes[url.pathname]) throw new RequestError(405, null, `${url.pathname} takes ${routes[url.pathname]}, not ${req.method}`);
    if (url.pathname === '/health') return send(res, 200, { ok: true, ...scored });
    if (url.pathname === '/rewards') return send(res, 200, info);
    const request = parseScoreRequest(await readBody(req, limit), spec.reward_funcs);
    const batch = rewardBatchOf(request);
    const chosen = request.rewards ? functions.filter((f) => request.rewards!.includes(f.name)) : functions;
    const started = performance.now();
    const run = queue.then(() => scoreRewards(chosen, batch));
    queue = run.catch(() => undefined);
    const values = await run;
    scored.batches += 1;
    scored.completions += batch.completions.length;
    send(res, 200, {
      rewards: Object.fromEntries(chosen.map((f, k) => [f.name, values[k]])),
      completions: batch.completions.length, seconds: (performance.now() - started) / 1000,
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      if (res.headersSent) return void res.destroy();
      if (e instanceof RequestError) {
        send(res, e.status, { error: e.message, field: e.field });
      } else {
        send(res, 500, { error: e.message.split('\n')[0] });
      }
    });
  });
  server.requestTimeout = 0; // a judge batch may take minutes
  // a trainer's client may keep a connection idle for a whole training step: do not close it under the client
  server.keepAliveTimeout = 10 * 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code === 'EADDRINUSE' ? `port ${o.port} on ${REWARD_SERVER_HOST} is in use; pick another --port (0: any free port)` : e.message)));
    server.listen(o.port, REWARD_SERVER_HOST, () => resolve());
  }).catch(async (e) => { await judge?.release(); throw e; });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${REWARD_SERVER_HOST}:${port}`, port, spec, specSha256, server,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await judge?.release();
    },
  };
}

function port(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new InvalidArgumentError('--port must be an integer from 0 to 65535 (0: any free port)');
  return Number(v);
}

function megabytes(v: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x <= 0) throw new InvalidArgumentError('--max-body-mb must be a positive number');
  return x;
}

/** Adds `reward-server` to the ragrpo command; the action runs until SIGINT or SIGTERM. */
export function addRewardServerCommand(program: Command, io: Out): void {
  program
    .command('reward-server')
    .description("serve a pipeline's rewards on 127.0.0.1 with TRL's reward-function contract (for export-trl's train_trl.py)")
    .requiredOption('--pipeline <file>', 'pipeline YAML file (its reward: section)')
    .option('--port <n>', 'port on 127.0.0.1 (0: any free port)', port, 8787)
    .option('--max-body-mb <n>', 'largest request body accepted, in MiB', megabytes, DEFAULT_MAX_BODY_BYTES / 2 ** 20)
    .action(async (o: { pipeline: string; port: number; maxBodyMb: number }) => {
      const s = await startRewardServer({ pipeline: o.pipeline, port: o.port, root: process.env.NX_WORKSPACE_ROOT, maxBodyBytes: Math.floor(o.maxBodyMb * 2 ** 20) });
      const weights = s.spec.reward_weights.join(', ');
      io.out(`reward-server: listening on ${s.url} (POST /score, GET /rewards): ${s.spec.reward_funcs.join(', ')} (weights ${weights}, applied by TRL), spec sha256 ${s.specSha256.slice(0, 12)}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await s.close();
      io.err('reward-server: stopped\n');
    });
}
