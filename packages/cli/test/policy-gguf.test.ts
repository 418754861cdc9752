/**
 * `policy: { gguf: FILE }` through the policy stage's command (as Nx runs it): the GGUF is imported
 * into the stage's model/ folder and the record points there; giving two of model/scratch/gguf is
 * refused by the pipeline schema.
 */
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicySection } from '@ragrpo/config';
import { loadModel } from '@ragrpo/model';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
let dir: string;
let gguf: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ragrpo-policy-gguf-'));
  gguf = path.join(dir, 'tiny.gguf');
  await promisify(execFile)(TSX, [path.join(ROOT, 'packages/gguf/test/tiny-gguf.ts'), '--out', gguf, '--arch', 'qwen2', '--quant', 'q8_0']);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function pipeline(policy: string): string {
  const docs = path.join(dir, 'docs');
  fs.mkdirSync(docs, { recursive: true });
  fs.writeFileSync(path.join(docs, 'a.txt'), 'A crisp white wine with citrus and green apple.');
  const file = path.join(dir, `pipeline-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, `ingest:\n  documents:\n    - kind: text\n      path: ${JSON.stringify(docs)}\nembed:\n  sparse: {}\n${policy}`);
  return file;
}

describe('policy: { gguf }', () => {
  it('imports the GGUF into <artifacts>/<pipeline>/policy/model and records it', async () => {
    const artifacts = path.join(dir, 'artifacts');
    const file = pipeline(`policy:\n  gguf: ${JSON.stringify(gguf)}\n  trainable: lora\n  max_seq_length: 128\n`);
    const r = spawnSync(TSX, ['packages/policy/src/cli.ts', '--pipeline', file], {
      cwd: ROOT, env: { ...process.env, RAGRPO_ARTIFACTS: artifacts, CI: '1' }, encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Qwen2ForCausalLM imported from .*tiny\.gguf \(\d+ Q8_0, \d+ F32; 0\.\dM parameters, F32\)/);
    const stageDir = fs.readdirSync(artifacts).map((p) => path.join(artifacts, p, 'policy')).find((p) => fs.existsSync(p))!;
    const record = JSON.parse(fs.readFileSync(path.join(stageDir, 'policy.json'), 'utf8'));
    expect(record).toMatchObject({ format: 'ragrpo.policy', source: 'gguf', model: gguf, location: { base: 'artifact', path: 'model' }, architecture: 'Qwen2ForCausalLM', has_chat_template: true, max_seq_length: 128 });
    const m = await loadModel(path.join(stageDir, 'model'));
    expect(m.config.tieWordEmbeddings).toBe(true);
    expect(m.tokenizer!.hasChatTemplate).toBe(true);
  });

  it('exactly one of model, scratch and gguf', () => {
    expect(PolicySection.safeParse({ gguf: 'x.gguf' }).success).toBe(true);
    const both = PolicySection.safeParse({ gguf: 'x.gguf', model: 'models/m' });
    expect(both.success).toBe(false);
    expect(JSON.stringify(both.error?.issues)).toContain('give exactly one of model (a hub id or a folder), scratch (a shape to build) or gguf (a .gguf file to import)');
    expect(PolicySection.safeParse({}).success).toBe(false);
  });

  it('a missing GGUF file fails the stage with one line naming it', () => {
    const artifacts = path.join(dir, 'artifacts-missing');
    const absent = path.join(dir, 'absent.gguf');
    const r = spawnSync(TSX, ['packages/policy/src/cli.ts', '--pipeline', pipeline(`policy:\n  gguf: ${JSON.stringify(absent)}\n`)], {
      cwd: ROOT, env: { ...process.env, RAGRPO_ARTIFACTS: artifacts, CI: '1' }, encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    const errors = r.stderr.split('\n').filter((l) => /error/i.test(l));
    expect(errors).toHaveLength(1);
    // The first stage to run checks every model the pipeline names, the GGUF file included, before any work.
    expect(errors[0]).toContain(`policy.gguf '${absent}' is not on this machine (nothing at ${absent})`);
    expect(errors[0]).toContain(`put the model file at ${absent}`);
  });
});
