/**
 * pipelines/wine-smollm2.yaml (the wine sample, MiniLM + BM25 hybrid retrieval, POV re-ranking, SmolLM2-135M-Instruct
 * with LoRA GRPO, evaluate). The whole run takes minutes (`npx nx run wine-smollm2:train`; figures in the evaluate
 * report), so this test checks what CI can afford: the file is valid and says what it should, and without the two
 * model folders the first stage stops at once, in one line naming the missing folders.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '@ragrpo/config';
import { expectOneError, root, runStage } from './stage-cli.ts';

const FILE = path.join(root, 'pipelines', 'wine-smollm2.yaml');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ragrpo-wine-smollm2-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('pipelines/wine-smollm2.yaml', () => {
  it('is a valid pipeline: dense + sparse hybrid retrieval, POV rank, SmolLM2 LoRA policy, verifiable GRPO reward, evaluate', () => {
    const p = loadPipeline(FILE).config;
    expect(p.embed?.dense?.model).toBe('models/all-minilm-l6-v2');
    expect(p.embed?.sparse).toBeDefined();
    expect(p.index?.search).toBe('hybrid');
    expect(p.rank?.vectors).toBe('dense');
    expect(p.policy).toMatchObject({ model: 'models/smollm2-135m-instruct', trainable: 'lora', lora: { r: 8, target_modules: ['q_proj', 'v_proj'] } });
    expect(p.prompts?.template).toBe('chat');
    expect(p.reward?.reward_funcs).toEqual(['token_f1', 'contains_reference']);
    expect(p.grpo).toMatchObject({ max_steps: 6, num_generations: 4 });
    expect(p.evaluate?.primary_reward).toBe('token_f1');
    expect(readFileSync(FILE, 'utf8')).toContain('npx tsx tools/models/fetch.ts all');
  });

  it('without the model folders, the first stage stops at once with one line naming both folders', () => {
    // The same pipeline with the models looked up in an empty folder (as on a machine that never fetched them).
    const dir = path.join(tmp, 'offline');
    mkdirSync(dir, { recursive: true });
    const missing = path.join(dir, 'no-models');
    const text = readFileSync(FILE, 'utf8')
      .replace('models/all-minilm-l6-v2', path.join(missing, 'all-minilm-l6-v2'))
      .replace('models/smollm2-135m-instruct', path.join(missing, 'smollm2-135m-instruct'))
      .replaceAll('../shared/', path.resolve(root, '..', 'shared') + '/')
      .replace('datasets/wine-questions.jsonl', path.join(root, 'datasets', 'wine-questions.jsonl'));
    const pipeline = path.join(dir, 'wine-smollm2.yaml');
    writeFileSync(pipeline, text);
    const artifacts = path.join(dir, 'artifacts');
    const line = expectOneError(runStage('ingest', pipeline, artifacts), 'ingest');
    expect(line).toContain(`embed.dense.model '${path.join(missing, 'all-minilm-l6-v2')}' is not on this machine`);
    expect(line).toContain("build it with 'npx tsx tools/models/fetch.ts all-minilm-l6-v2'");
    expect(line).toContain(`also missing: policy.model (${path.join(missing, 'smollm2-135m-instruct')})`);
    expect(existsSync(path.join(artifacts, 'wine-smollm2', 'ingest'))).toBe(false);
    cpSync(pipeline, path.join(tmp, 'kept.yaml'));
  }, 180_000);
});
