/**
 * Downloads a model folder from the Hugging Face hub (or a mirror: `endpoint`, env HF_ENDPOINT) into
 * `<modelsDir>/<repoId>`, through @huggingface/hub (`listFiles` for the tree with sizes and oids, `downloadFile`
 * for each file's range-capable blob).
 *
 * Files: config.json, tokenizer.json, tokenizer_config.json, and model.safetensors or model.safetensors.index.json
 * plus every shard its weight_map names; generation_config.json and special_tokens_map.json when the repo has them.
 *
 * Resumable and verified: each file is streamed to `<file>.partial`; a later attempt continues it with an HTTP
 * Range request (the bytes already there are kept; a server that ignores Range makes it start over). A complete
 * file is checked (size; sha256 against the LFS oid for LFS files, the git blob id for the others) and only then
 * renamed to its name. Everything is assembled in `<modelsDir>/.<org>--<name>.download-<hash>` (the hash of
 * endpoint, repo and revision, so a re-run finds it) and that folder is renamed to `<modelsDir>/<repoId>` only
 * when every file is complete: a broken download never leaves a folder that later looks complete, and running
 * again resumes it. A lock file in the temporary folder keeps two processes from downloading the same model at once.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { downloadFile, HubApiError, listFiles, type ListFileEntry } from '@huggingface/hub';
import { checkFile, type ExpectedFile } from './file-checks.ts';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

export interface DownloadProgress {
  /** File name inside the repo. */
  file: string;
  /** Bytes of that file on disk so far (resumed bytes included). */
  bytes: number;
  /** The file's size. */
  total: number;
}

export interface DownloadModelOptions {
  /** Parent of the model folders: the model lands in `<modelsDir>/<repoId>`. */
  modelsDir: string;
  /** Branch, tag or commit. Default "main". */
  revision?: string;
  /** Hub URL. Default: env HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Access token for private or gated repos (starts with hf_). Default: env HF_TOKEN. */
  token?: string;
  onProgress?: (p: DownloadProgress) => void;
  /** Attempts after a network failure within this call, each resuming the file. Default 3. */
  retries?: number;
  /** The fetch the hub client uses (proxies, tests). Default: global fetch. */
  fetch?: typeof fetch;
}

export class ModelDownloadError extends Error {
  override name = 'ModelDownloadError';
  /** Network trouble worth another attempt (the partial file is kept). */
  readonly retryable: boolean;
  constructor(message: string, retryable = false) {
    super(message);
    this.retryable = retryable;
  }
}

const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;
const OPTIONAL_FILES = ['generation_config.json', 'special_tokens_map.json'] as const;
const SINGLE_WEIGHTS = 'model.safetensors';
const SHARD_INDEX = 'model.safetensors.index.json';
const HUB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9][A-Za-z0-9_.-]*)?$/;

/** true for strings shaped like a hub model id: `name` or `org/name` (letters, digits, `_`, `.`, `-`). */
export function isHubModelId(ref: string): boolean {
  return HUB_ID.test(ref) && !ref.split('/').some((s) => s === '.' || s === '..' || s.includes('..'));
}

/** Folder name of the temporary download folder of a repo (in modelsDir). */
export function downloadTempName(repoId: string, endpoint: string, revision: string): string {
  const hash = createHash('sha256').update(`${endpoint}\n${repoId}\n${revision}`).digest('hex').slice(0, 12);
  return `.${repoId.replace('/', '--')}.download-${hash}`;
}

/**
 * Downloads `repoId` into `<modelsDir>/<repoId>` and returns that folder (absolute). An existing
 * `<modelsDir>/<repoId>` is returned as is, without contacting the hub: only complete downloads are ever renamed
 * there (delete the folder to download again).
 */
export async function downloadModel(repoId: string, opts: DownloadModelOptions): Promise<string> {
  if (!isHubModelId(repoId)) {
    throw new ModelDownloadError(`downloadModel: '${repoId}' is not a hub model id (expected "name" or "org/name")`);
  }
  const modelsDir = path.resolve(opts.modelsDir);
  const final = path.join(modelsDir, repoId);
  if (fs.existsSync(final)) return final;

  const endpoint = (opts.endpoint ?? process.env['HF_ENDPOINT'] ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
  const revision = opts.revision ?? 'main';
  const token = opts.token ?? (process.env['HF_TOKEN'] || undefined);
  const ctx: Ctx = {
    repoId,
    revision,
    endpoint,
    token,
    fetch: opts.fetch ?? fetch,
    onProgress: opts.onProgress,
    label: `${repoId}@${revision} from ${endpoint}`,
  };

  const listing = await listRepo(ctx);
  const wanted = selectFiles(ctx, listing);

  const temp = path.join(modelsDir, downloadTempName(repoId, endpoint, revision));
  fs.mkdirSync(temp, { recursive: true });
  const releaseLock = takeLock(temp, ctx);
  try {
    const retries = opts.retries ?? 3;
    const fetched = new Set<string>();
    const get = async (want: ExpectedFile): Promise<void> => {
      await fetchWithRetries(ctx, temp, want, retries);
      fetched.add(want.path);
    };
    for (const want of wanted.files) await get(want);
    if (wanted.index) {
      await get(wanted.index);
      for (const shard of shardsOf(ctx, path.join(temp, SHARD_INDEX), listing)) await get(shard);
    }
    // Leftovers of an earlier attempt (another weight layout, stray partials) do not belong in the model folder.
    for (const f of fs.readdirSync(temp)) {
      if (f !== LOCK_FILE && !fetched.has(f)) fs.rmSync(path.join(temp, f), { recursive: true, force: true });
    }
  } catch (e) {
    releaseLock();
    throw e;
  }
  releaseLock();
  fs.mkdirSync(path.dirname(final), { recursive: true });
  try {
    fs.renameSync(temp, final);
  } catch (e) {
    // Someone else completed the same download meanwhile: theirs is as good as ours.
    if (fs.existsSync(final)) {
      fs.rmSync(temp, { recursive: true, force: true });
      return final;
    }
    throw e;
  }
  return final;
}

interface Ctx {
  repoId: string;
  revision: string;
  endpoint: string;
  token: string | undefined;
  fetch: typeof fetch;
  onProgress: ((p: DownloadProgress) => void) | undefined;
  label: string;
}

function reasonOf(e: unknown): string {
  if (e instanceof HubApiError) return `HTTP ${e.statusCode}${e.message ? ` (${e.message.split('. URL:')[0]})` : ''}`;
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause ? `${e.message}: ${cause.code ?? cause.message}` : e.message;
  }
  return String(e);
}

function isRetryable(e: unknown): boolean {
  if (e instanceof HubApiError) return e.statusCode >= 500 || e.statusCode === 429 || e.statusCode === 408;
  return !(e instanceof ModelDownloadError) || e.retryable;
}

async function listRepo(ctx: Ctx): Promise<Map<string, ListFileEntry>> {
  const out = new Map<string, ListFileEntry>();
  try {
    for await (const entry of listFiles({
      repo: { type: 'model', name: ctx.repoId },
      revision: ctx.revision,
      hubUrl: ctx.endpoint,
      accessToken: ctx.token,
      fetch: ctx.fetch,
    })) {
      if (entry.type === 'file') out.set(entry.path, entry);
    }
  } catch (e) {
    let reason = reasonOf(e);
    if (e instanceof HubApiError && (e.statusCode === 401 || e.statusCode === 403 || e.statusCode === 404)) {
      reason = `HTTP ${e.statusCode}: no such model repository or revision, or it is private or gated (pass a token or set HF_TOKEN)`;
    }
    throw new ModelDownloadError(`downloadModel: cannot list model '${ctx.repoId}' (revision ${ctx.revision}) at ${ctx.endpoint}: ${reason}`);
  }
  return out;
}

function expected(entry: ListFileEntry): ExpectedFile {
  if (entry.lfs) return { path: entry.path, size: entry.lfs.size, sha256: entry.lfs.oid };
  return { path: entry.path, size: entry.size, gitOid: entry.oid && /^[0-9a-f]{40}$/.test(entry.oid) ? entry.oid : undefined };
}

function selectFiles(ctx: Ctx, listing: Map<string, ListFileEntry>): { files: ExpectedFile[]; index: ExpectedFile | null } {
  const missing = REQUIRED_FILES.filter((f) => !listing.has(f));
  const index = listing.get(SHARD_INDEX);
  const single = listing.get(SINGLE_WEIGHTS);
  if (!index && !single) missing.push(`${SINGLE_WEIGHTS} or ${SHARD_INDEX}` as never);
  if (missing.length > 0) {
    const other = [...listing.keys()].filter((f) => /\.(bin|pt|pth|gguf|onnx|h5|msgpack)$/.test(f));
    throw new ModelDownloadError(
      `downloadModel: '${ctx.repoId}' (${ctx.revision}) has no ${missing.join(', ')}` +
        (other.length ? `; it has ${other.slice(0, 4).join(', ')}, but ragrpo loads only safetensors weights` : '') +
        ` (the repo lists ${listing.size} files)`,
    );
  }
  const files = [...REQUIRED_FILES, ...OPTIONAL_FILES].filter((f) => listing.has(f)).map((f) => expected(listing.get(f)!));
  // The shard index wins over a single file, as in transformers; its shards are known once it is downloaded.
  if (!index) files.push(expected(single!));
  return { files, index: index ? expected(index) : null };
}

/** The shards a downloaded index names, in name order, each checked against the listing. */
function shardsOf(ctx: Ctx, indexFile: string, listing: Map<string, ListFileEntry>): ExpectedFile[] {
  let weightMap: Record<string, string>;
  try {
    weightMap = (JSON.parse(fs.readFileSync(indexFile, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
    if (!weightMap || typeof weightMap !== 'object') throw new Error('no weight_map object');
  } catch (e) {
    throw new ModelDownloadError(`downloadModel: '${ctx.repoId}' ${SHARD_INDEX} is not a valid shard index (${(e as Error).message})`);
  }
  const shards = [...new Set(Object.values(weightMap))].sort();
  const out: ExpectedFile[] = [];
  for (const s of shards) {
    if (typeof s !== 'string' || s.includes('/') || s.includes('\\') || s.startsWith('.')) {
      throw new ModelDownloadError(`downloadModel: '${ctx.repoId}' ${SHARD_INDEX} names shard ${JSON.stringify(s)}, which is not a plain file name`);
    }
    const entry = listing.get(s);
    if (!entry) throw new ModelDownloadError(`downloadModel: '${ctx.repoId}' ${SHARD_INDEX} names shard ${s}, which the repo does not have`);
    out.push(expected(entry));
  }
  return out;
}

const LOCK_FILE = '.lock';

/** A lock file (pid) in the temporary folder; a lock of a process that is gone is taken over. */
function takeLock(temp: string, ctx: Ctx): () => void {
  const lock = path.join(temp, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(lock, 'utf8'));
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new ModelDownloadError(`downloadModel: ${ctx.label} is being downloaded by process ${pid} (lock ${lock})`);
      }
      fs.rmSync(lock, { force: true });
    }
  }
  throw new ModelDownloadError(`downloadModel: could not take the lock ${lock}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function fetchWithRetries(ctx: Ctx, temp: string, want: ExpectedFile, retries: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fetchFile(ctx, temp, want);
      return;
    } catch (e) {
      if (attempt >= retries || !isRetryable(e)) {
        if (e instanceof ModelDownloadError) throw e;
        throw new ModelDownloadError(`downloadModel: ${ctx.repoId}/${want.path}: ${reasonOf(e)}`);
      }
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
}

/** One file: skip when already verified, else resume `<file>.partial`, verify, rename. */
async function fetchFile(ctx: Ctx, temp: string, want: ExpectedFile): Promise<void> {
  const dest = path.join(temp, want.path);
  const partial = `${dest}.partial`;
  if (fs.existsSync(dest)) {
    ctx.onProgress?.({ file: want.path, bytes: want.size, total: want.size });
    return;
  }
  let have = fs.existsSync(partial) ? fs.statSync(partial).size : 0;
  if (have > want.size) {
    fs.rmSync(partial);
    have = 0;
  }
  const resumedFrom = have;
  if (have < want.size) have = await streamToPartial(ctx, want, partial, have);
  else if (!fs.existsSync(partial)) fs.writeFileSync(partial, ''); // an empty file

  const problem = await checkFile(partial, want);
  if (problem) {
    fs.rmSync(partial, { force: true });
    if (resumedFrom > 0) {
      // The kept bytes may be from another commit of the revision: one fresh try.
      await streamToPartial(ctx, want, partial, 0);
      const again = await checkFile(partial, want);
      if (!again) {
        fs.renameSync(partial, dest);
        return;
      }
      fs.rmSync(partial, { force: true });
      throw new ModelDownloadError(`downloadModel: ${ctx.repoId}/${want.path} failed verification: ${again}`);
    }
    throw new ModelDownloadError(`downloadModel: ${ctx.repoId}/${want.path} failed verification: ${problem}`);
  }
  fs.renameSync(partial, dest);
}

/** Appends the bytes from `have` on to `partial`; returns the bytes on disk. */
async function streamToPartial(ctx: Ctx, want: ExpectedFile, partial: string, have: number): Promise<number> {
  // Watch the responses: a server that answers a Range request with 200 sends the whole file.
  const ranged: { range: string | null; status: number }[] = [];
  const watching: typeof fetch = async (input, init) => {
    const res = await ctx.fetch(input, init);
    ranged.push({ range: new Headers(init?.headers).get('range'), status: res.status });
    return res;
  };
  const blob = await downloadFile({
    repo: { type: 'model', name: ctx.repoId },
    path: want.path,
    revision: ctx.revision,
    hubUrl: ctx.endpoint,
    accessToken: ctx.token,
    fetch: watching,
    // Plain HTTP downloads (resolve URL, redirects to the CDN), which resume with Range; not the xet protocol.
    xet: false,
  });
  if (!blob) throw new ModelDownloadError(`downloadModel: ${ctx.repoId}/${want.path} is listed but the hub has no such file`);
  if (blob.size !== want.size) {
    throw new ModelDownloadError(`downloadModel: ${ctx.repoId}/${want.path} is ${blob.size} bytes on the resolve endpoint but ${want.size} in the listing`, true);
  }
  const askedRange = `bytes=${have}-${want.size - 1}`;
  const reader = (have > 0 ? blob.slice(have) : blob).stream().getReader();
  const fh = await fs.promises.open(partial, have > 0 ? 'a' : 'w');
  try {
    let first = true;
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw new ModelDownloadError(
          `downloadModel: ${ctx.repoId}/${want.path}: download interrupted after ${have} of ${want.size} bytes (${reasonOf(e)}); run again to resume`,
          true,
        );
      }
      if (first && have > 0 && ranged.some((r) => r.range === askedRange && r.status === 200)) {
        await fh.truncate(0); // append mode: the next write lands at 0
        have = 0;
      }
      first = false;
      if (chunk.done) break;
      await fh.write(chunk.value);
      have += chunk.value.length;
      ctx.onProgress?.({ file: want.path, bytes: have, total: want.size });
      if (have > want.size) break; // checkFile reports the size
    }
    await fh.sync();
  } finally {
    await fh.close();
    await reader.cancel().catch(() => undefined);
  }
  if (have < want.size) {
    throw new ModelDownloadError(`downloadModel: ${ctx.repoId}/${want.path}: the connection ended after ${have} of ${want.size} bytes; run again to resume`, true);
  }
  return have;
}
