/**
 * `ragrpo import-gguf` and `ragrpo generate` on a tiny Q8_0 GGUF (written by packages/gguf's test
 * helper, run by path), through main() and once through the npm-linked bin; and on the real
 * SmolLM2 folder when models/smollm2-135m-instruct is there (skipped, and said so, otherwise).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLora, readModelConfig, saveLora } from '@ragrpo/model';
import { main } from '../src/index.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const BIN = path.join(ROOT, 'node_modules/.bin/ragrpo');
const SMOLLM2 = path.join(ROOT, 'models', 'smollm2-135m-instruct');
const hasSmollm2 = fs.existsSync(path.join(SMOLLM2, 'model.safetensors'));
if (!hasSmollm2) console.warn(`cli.test.ts: SKIPPED 'ragrpo generate' on SmolLM2: ${path.relative(ROOT, SMOLLM2)} is absent (npx tsx tools/models/fetch.ts smollm2-135m-instruct)`);

let dir: string;
let gguf: string;
let model: string;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'ragrpo', ...argv], { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ragrpo-cli-'));
  gguf = path.join(dir, 'tiny.q8_0.gguf');
  model = path.join(dir, 'tiny');
  await run(TSX, [path.join(ROOT, 'packages/gguf/test/tiny-gguf.ts'), '--out', gguf, '--arch', 'llama', '--quant', 'q8_0']);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ragrpo import-gguf', () => {
  it('writes a model folder and says what it imported', async () => {
    const r = await cli('import-gguf', gguf, '--out', model);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^LlamaForCausalLM \(llama\): 0\.1M parameters from 16 Q8_0, 5 F32; vocabulary \d+, chat template; 0 MB F32 -> .*tiny in \d+\.\d s\n$/);
    expect(fs.readdirSync(model).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    expect(readModelConfig(path.join(model, 'config.json')).architecture).toBe('LlamaForCausalLM');
  });

  it('fails with one line: missing --out (2), missing file (1)', async () => {
    const a = await cli('import-gguf', gguf);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/required option '--out <dir>' not specified/);
    const b = await cli('import-gguf', path.join(dir, 'absent.gguf'), '--out', path.join(dir, 'x'));
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/^ragrpo: .*absent\.gguf: cannot open \(ENOENT\)\n$/);
  });

  it('is linked by npm workspaces as node_modules/.bin/ragrpo', async () => {
    expect(fs.existsSync(BIN)).toBe(true);
    const { stdout } = await run(BIN, ['--help'], { cwd: ROOT });
    expect(stdout).toMatch(/import-gguf/);
    expect(stdout).toMatch(/generate/);
    const out = path.join(dir, 'via-bin');
    const r = await run(BIN, ['import-gguf', gguf, '--out', out], { cwd: ROOT });
    expect(r.stdout).toMatch(/LlamaForCausalLM/);
    expect(fs.existsSync(path.join(out, 'model.safetensors'))).toBe(true);
  });
});

describe('ragrpo generate', () => {
  it('prints the greedy completion and its token count, the same every time', async () => {
    const a = await cli('generate', '--model', model, '--prompt', 'The capital of France', '--max-new-tokens', '6');
    expect(a.code).toBe(0);
    expect(a.err).toMatch(/^\[6 tokens, length; prompt \d+ tokens; \d+\.\d s\]\n$/);
    const b = await cli('generate', '--model', model, '--prompt', 'The capital of France', '--max-new-tokens', '6');
    expect(b.out).toBe(a.out);
  });

  it('--json, --chat, --temperature with --seed, --adapter', async () => {
    const j = JSON.parse((await cli('generate', '--model', model, '--prompt', 'wine', '--max-new-tokens', '4', '--json')).out);
    expect(j.tokens).toBeLessThanOrEqual(4);
    expect(typeof j.completion).toBe('string');
    expect(['eos', 'length']).toContain(j.finish_reason);

    const chat = JSON.parse((await cli('generate', '--model', model, '--prompt', 'wine', '--chat', '--max-new-tokens', '4', '--json')).out);
    expect(chat.prompt_tokens).toBeGreaterThan(j.prompt_tokens); // the ChatML wrapping

    const t1 = (await cli('generate', '--model', model, '--prompt', 'wine', '--temperature', '1.5', '--seed', '3', '--max-new-tokens', '8', '--json')).out;
    const t2 = (await cli('generate', '--model', model, '--prompt', 'wine', '--temperature', '1.5', '--seed', '3', '--max-new-tokens', '8', '--json')).out;
    expect(JSON.parse(t1).completion).toBe(JSON.parse(t2).completion);

    const adapter = path.join(dir, 'adapter');
    const config = readModelConfig(path.join(model, 'config.json'));
    const lora = createLora(config, { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj'] }, 0);
    saveLora(adapter, lora, { baseModel: model });
    const withAdapter = JSON.parse((await cli('generate', '--model', model, '--prompt', 'wine', '--max-new-tokens', '4', '--adapter', adapter, '--json')).out);
    expect(withAdapter.completion).toBe(j.completion); // B = 0 at init: the adapter changes nothing
  });

  it('bad arguments and folders fail with one line', async () => {
    const a = await cli('generate', '--model', model, '--prompt', 'x', '--max-new-tokens', '0');
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/--max-new-tokens must be a positive integer/);
    const b = await cli('generate', '--model', path.join(dir, 'nope'), '--prompt', 'x');
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/^ragrpo: --model .*nope: no config\.json in .*; make one from a GGUF with 'ragrpo import-gguf FILE --out DIR'\)\n$/);
    const c = await cli('generate', '--prompt', 'x');
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/required option '--model <dir>' not specified/);
  });

  it.skipIf(!hasSmollm2)('SmolLM2-135M-Instruct: "The capital of France is" -> Paris (greedy), and a chat answer', async () => {
    const r = await cli('generate', '--model', SMOLLM2, '--prompt', 'The capital of France is', '--max-new-tokens', '8');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/paris/i);
    expect(r.err).toMatch(/^\[8 tokens, length;/);
    const c = JSON.parse((await cli('generate', '--model', SMOLLM2, '--prompt', 'What is the capital of Germany? Answer in one word.', '--chat', '--max-new-tokens', '16', '--json')).out);
    expect(c.completion).toMatch(/berlin/i);
    expect(c.finish_reason).toBe('eos');
  });
});
