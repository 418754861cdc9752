// `npm run bench -- generate`: the generate stage's sampler on the default pipeline's policy shape
// (a scratch Llama, 2 layers, d=128, BPE 2048 trained on the wine chunks), 8 real wine prompts of
// ~5 retrieved chunks each, a group of 8 per prompt, 32 new tokens. Reports prompt tokens/s (the
// shared prefill), completion tokens/s per group, and how the sampler's wall time splits between the
// engine (ORT session runs: prefill and decode steps) and JavaScript (logit processing, cache
// copies, feeds, detokenising).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sampleCompletions } from '@ragrpo/generate';
import { buildScratchModel, loadModel, Policy } from '@ragrpo/model';
import { parseCsvText } from '@ragrpo/ingest';
import { readFileSync } from 'node:fs';
import type { Metrics } from './report.ts';
import { median } from './engine-step.ts';

const WINE = path.resolve(import.meta.dirname, '../../../shared/datasets/wine-reviews/winemag-data-130k-v2.sample.csv');

export async function generateSuite(): Promise<Metrics> {
  const rows = parseCsvText(readFileSync(WINE, "utf8"), WINE).records.map(({ values: v }) => `${v.title} (${v.variety}). ${v.description} Points: ${v.points}. Price: ${v.price}.`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-generate-'));
  try {
    const built = await buildScratchModel({
      out: path.join(dir, 'model'), arch: 'llama', layers: 2, hidden: 128, heads: 4, intermediate: 384, maxPositions: 1024,
      seed: 0, corpus: rows, vocabSize: 2048,
    });
    const model = await loadModel(built.out);
    const tokenizer = model.tokenizer!;
    const policy = new Policy({ config: model.config, weights: model.weights }, { threads: 2 });
    const prompts = Array.from({ length: 8 }, (_, p) => tokenizer.applyChatTemplateIds([
      { role: 'user', content: `Answer the question using the documents.\n\n${rows.slice(p * 5, p * 5 + 5).map((t, i) => `Document ${i + 1}:\n\n${t}`).join('\n\n')}\n\nQuestion: How many points did it score?` },
    ], { addGenerationPrompt: true }));
    const promptTokens = prompts.reduce((n, p) => n + p.length, 0);

    // Time spent inside the engine: every prefill and decode-step session run.
    let engineMs = 0;
    for (const name of ['prefill', 'decodeStep'] as const) {
      const original = policy[name].bind(policy) as (...a: unknown[]) => Promise<unknown>;
      (policy as unknown as Record<string, unknown>)[name] = async (...a: unknown[]) => {
        const t = performance.now();
        try { return await original(...a); } finally { engineMs += performance.now() - t; }
      };
    }
    const settings = { temperature: 1, top_p: 1, top_k: 0, min_p: 0, repetition_penalty: 1, max_completion_length: 32, stop: [], groupSize: 8 };
    const run = async (seed: number) => {
      engineMs = 0;
      const t = performance.now();
      const groups = await sampleCompletions(policy, tokenizer, prompts, { ...settings, seed });
      return { ms: performance.now() - t, engineMs, tokens: groups.flat().reduce((n, c) => n + c.ids.length, 0) };
    };
    const prefillMs = async () => { const t = performance.now(); await policy.prefill(prompts); return performance.now() - t; };
    await run(0); // warm-up: sessions for every shape
    await prefillMs();
    const runs = [];
    const prefills = [];
    for (let i = 1; i <= 5; i++) { runs.push(await run(i)); prefills.push(await prefillMs()); }
    await policy.release();
    const wall = median(runs.map((r) => r.ms));
    const engine = median(runs.map((r) => r.engineMs / r.ms));
    const tokens = median(runs.map((r) => r.tokens));
    return {
      'generate.prompt_tokens_per_s': { value: promptTokens / (median(prefills) / 1000), unit: 'tokens/s', note: `prefill of 8 prompts, ${promptTokens} tokens` },
      'generate.completion_tokens_per_s': { value: tokens / (wall / 1000), unit: 'tokens/s', note: '8 prompts x group of 8 x 32 new tokens, prefill included' },
      'generate.group_ms': { value: wall / 8, unit: 'ms', note: 'one prompt\'s group of 8, amortised over the batch' },
      'generate.engine_share': { value: engine, unit: 'fraction', note: 'of the sampler\'s wall time inside ORT session runs' },
      'generate.js_share': { value: 1 - engine, unit: 'fraction', note: 'logit processing, cache copies, feeds, decoding text' },
      'generate.parameters': { value: built.numParameters, unit: 'params' },
      'host.loadavg_1m': { value: os.loadavg()[0], unit: '' },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
