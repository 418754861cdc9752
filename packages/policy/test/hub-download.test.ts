// downloadModel and resolveModelFolder against a local fake hub (fake-hub.ts) serving tiny models built by the
// tools/tiny-llm CLI.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel, readSafetensors, writeShardedSafetensors } from '@ragrpo/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadModel, downloadTempName, resolveModelFolder, type DownloadProgress } from '../src/index.ts';
import { startFakeHub, type FakeHub } from './fake-hub.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ragrpo-hub-test-'));
let hub: FakeHub;
let single: string;
let sharded: string;

function buildTiny(out: string): string {
  execFileSync(path.join(repoRoot, 'node_modules', '.bin', 'tsx'), ['tools/tiny-llm/build.ts', '--arch', 'llama', '--out', out, '--seed', '0'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return out;
}

beforeAll(async () => {
  single = buildTiny(path.join(tmp, 'src-single'));
  // the same model as an index + 2 shards
  sharded = path.join(tmp, 'src-sharded');
  fs.cpSync(single, sharded, { recursive: true });
  const weights = readSafetensors(path.join(sharded, 'model.safetensors'));
  fs.rmSync(path.join(sharded, 'model.safetensors'));
  const total = [...weights.values()].reduce((n, t) => n + t.data.length * 4, 0);
  const shards = writeShardedSafetensors(sharded, new Map([...weights].map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape, data: t.data }])), {
    maxShardBytes: Math.ceil(total * 0.75), // greedy: the first shard takes more than half, the rest fits in one
  });
  expect(shards).toHaveLength(2);
  hub = await startFakeHub({ 'tiny-org/tiny-llama': single, 'tiny-org/tiny-sharded': sharded });
});

afterAll(async () => {
  await hub?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const freshDir = (name: string): string => fs.mkdtempSync(path.join(tmp, `${name}-`));
const sameBytes = (a: string, b: string): boolean => fs.readFileSync(a).equals(fs.readFileSync(b));

describe('downloadModel', () => {
  it('downloads a model folder that loadModel loads, and returns an existing one without asking the hub', async () => {
    const modelsDir = freshDir('full');
    const progress: DownloadProgress[] = [];
    const folder = await downloadModel('tiny-org/tiny-llama', { modelsDir, endpoint: hub.url, onProgress: (p) => progress.push(p) });
    expect(folder).toBe(path.join(modelsDir, 'tiny-org', 'tiny-llama'));
    expect(fs.readdirSync(folder).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    for (const f of fs.readdirSync(folder)) expect(sameBytes(path.join(folder, f), path.join(single, f)), f).toBe(true);
    const m = await loadModel(folder);
    expect(m.config.architecture).toBe('LlamaForCausalLM');
    expect(m.tokenizer!.vocabSize).toBe(512);
    // only the model folder is left in modelsDir (the temporary folder was renamed)
    expect(fs.readdirSync(modelsDir)).toEqual(['tiny-org']);
    const last = progress.filter((p) => p.file === 'model.safetensors').at(-1)!;
    expect(last.bytes).toBe(last.total);
    expect(last.total).toBe(fs.statSync(path.join(single, 'model.safetensors')).size);

    const before = hub.requests.length;
    expect(await downloadModel('tiny-org/tiny-llama', { modelsDir, endpoint: hub.url })).toBe(folder);
    expect(hub.requests.length).toBe(before);
  });

  it('a dropped connection leaves no model folder; the next run resumes the partial file with a Range request', async () => {
    const modelsDir = freshDir('resume');
    hub.fault = { file: 'model.safetensors', dropAfter: 100_000 };
    let err: Error | undefined;
    try {
      await downloadModel('tiny-org/tiny-llama', { modelsDir, endpoint: hub.url, retries: 1 });
    } catch (e) {
      err = e as Error;
    } finally {
      hub.fault = null;
    }
    expect(err?.message).toMatch(/tiny-org\/tiny-llama\/model\.safetensors: download interrupted after \d+ of \d+ bytes .*run again to resume/);
    expect(fs.existsSync(path.join(modelsDir, 'tiny-org'))).toBe(false);
    const temp = path.join(modelsDir, downloadTempName('tiny-org/tiny-llama', hub.url, 'main'));
    expect(fs.readdirSync(temp).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors.partial', 'tokenizer.json', 'tokenizer_config.json']);
    const kept = fs.statSync(path.join(temp, 'model.safetensors.partial')).size;
    // two attempts of at most 100,000 bytes each (bytes in flight when the server drops may be lost), the
    // second resuming where the first stopped with a Range request
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(200_000);
    const size = fs.statSync(path.join(single, 'model.safetensors')).size;
    expect(hub.requests.some((r) => r.startsWith('GET /cdn/') && new RegExp(` bytes=[1-9]\\d*-${size - 1}$`).test(r))).toBe(true);

    const before = hub.requests.length;
    const folder = await downloadModel('tiny-org/tiny-llama', { modelsDir, endpoint: hub.url });
    const rerun = hub.requests.slice(before);
    expect(rerun.some((r) => r.startsWith('GET /cdn/') && r.endsWith(` bytes=${kept}-${size - 1}`))).toBe(true);
    // the small files completed in the first run are not fetched again
    expect(rerun.some((r) => r.includes('/resolve/main/config.json'))).toBe(false);
    expect(sameBytes(path.join(folder, 'model.safetensors'), path.join(single, 'model.safetensors'))).toBe(true);
    expect(fs.existsSync(temp)).toBe(false);
    await loadModel(folder);
  });

  it('resumes correctly from a server that ignores Range (starts the file over)', async () => {
    const modelsDir = freshDir('norange');
    hub.fault = { file: 'model.safetensors', dropAfter: 50_000 };
    await expect(downloadModel('tiny-org/tiny-llama', { modelsDir, endpoint: hub.url, retries: 0 })).rejects.toThrow(/interrupted after 50000 of/);
    hub.fault = { file: 'model.safetensors', ignoreRange: true };
    try {
      const before = hub.requests.length;
      const folder = await downloadModel('tiny-org/tiny-llama', { modelsDir, endpoint: hub.url });
      expect(sameBytes(path.join(folder, 'model.safetensors'), path.join(single, 'model.safetensors'))).toBe(true);
      // one body request: the 200 answer to `bytes=50000-` was written from byte 0, not appended
      const bodies = hub.requests.slice(before).filter((r) => r.startsWith('GET /cdn/') && !r.endsWith('bytes=0-0'));
      expect(bodies).toEqual([expect.stringMatching(/ bytes=50000-\d+$/)]);
    } finally {
      hub.fault = null;
    }
  });

  it('a repo the hub does not have gives one line naming the repo id', async () => {
    const modelsDir = freshDir('404');
    const err = await downloadModel('nobody/no-such-model', { modelsDir, endpoint: hub.url }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^downloadModel: cannot list model 'nobody\/no-such-model' \(revision main\) at http:\/\/127\.0\.0\.1:\d+: HTTP 404/);
    expect((err as Error).message).not.toContain('\n');
    expect(fs.readdirSync(modelsDir)).toEqual([]);
  });

  it('downloads a sharded model: the index and every shard it names', async () => {
    const modelsDir = freshDir('sharded');
    const folder = await downloadModel('tiny-org/tiny-sharded', { modelsDir, endpoint: hub.url });
    expect(fs.readdirSync(folder).sort()).toEqual([
      'config.json',
      'generation_config.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
      'model.safetensors.index.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const a = await loadModel(folder);
    const b = await loadModel(single);
    expect([...a.weights.keys()].sort()).toEqual([...b.weights.keys()].sort());
    for (const [k, t] of b.weights) expect(a.weights.get(k)!.data).toEqual(t.data);
  });

  it('refuses a file whose bytes do not match the sha256 the hub lists, leaving no model folder', async () => {
    const modelsDir = freshDir('corrupt');
    hub.fault = { file: 'model.safetensors', corrupt: true };
    const err = await downloadModel('tiny-org/tiny-llama', { modelsDir, endpoint: hub.url }).catch((e: Error) => e);
    hub.fault = null;
    expect((err as Error).message).toMatch(/tiny-org\/tiny-llama\/model\.safetensors failed verification: sha256 [0-9a-f]{64}, the hub's LFS oid is [0-9a-f]{64}/);
    expect(fs.existsSync(path.join(modelsDir, 'tiny-org'))).toBe(false);
  });

  it('takes the endpoint from HF_ENDPOINT and refuses ids that are not hub ids', async () => {
    const modelsDir = freshDir('env');
    const old = process.env['HF_ENDPOINT'];
    process.env['HF_ENDPOINT'] = hub.url + '/';
    try {
      const folder = await downloadModel('tiny-org/tiny-llama', { modelsDir });
      expect(fs.existsSync(path.join(folder, 'model.safetensors'))).toBe(true);
    } finally {
      if (old === undefined) delete process.env['HF_ENDPOINT'];
      else process.env['HF_ENDPOINT'] = old;
    }
    await expect(downloadModel('../etc/passwd', { modelsDir, endpoint: hub.url })).rejects.toThrow(/is not a hub model id/);
  });
});

describe('resolveModelFolder', () => {
  it('takes an existing folder as is, then <modelsDir>/<ref>', async () => {
    const root = freshDir('root');
    fs.cpSync(single, path.join(root, 'my-model'), { recursive: true });
    fs.cpSync(single, path.join(root, 'models', 'org', 'local-copy'), { recursive: true });
    expect(await resolveModelFolder('my-model', { modelsDir: 'models', allowRemote: false, root })).toEqual({
      folder: path.join(root, 'my-model'),
      source: 'folder',
      downloaded: false,
    });
    expect(await resolveModelFolder(single, { modelsDir: 'models', allowRemote: false, root })).toMatchObject({ folder: single, source: 'folder' });
    expect(await resolveModelFolder('org/local-copy', { modelsDir: 'models', allowRemote: true, root, endpoint: 'http://127.0.0.1:9' })).toEqual({
      folder: path.join(root, 'models', 'org', 'local-copy'),
      source: 'hub',
      downloaded: false,
    });
  });

  it('offline, a hub id without a local folder fails with the one-line instructions and no request', async () => {
    const root = freshDir('offline');
    const before = hub.requests.length;
    await expect(resolveModelFolder('tiny-org/tiny-llama', { modelsDir: 'models', allowRemote: false, root, endpoint: hub.url })).rejects.toThrow(
      new Error(
        "policy.model: 'tiny-org/tiny-llama' is not a local folder and models/tiny-org/tiny-llama does not exist; offline runs never download: " +
          'put the model folder there, point policy.model at a local folder, or set policy.allow_remote: true',
      ),
    );
    expect(hub.requests.length).toBe(before);
  });

  it('with allowRemote downloads into <modelsDir>/<ref>', async () => {
    const root = freshDir('remote');
    const r = await resolveModelFolder('tiny-org/tiny-llama', { modelsDir: 'models', allowRemote: true, root, endpoint: hub.url });
    expect(r).toEqual({ folder: path.join(root, 'models', 'tiny-org', 'tiny-llama'), source: 'hub', downloaded: true });
    await loadModel(r.folder);
  });
});
