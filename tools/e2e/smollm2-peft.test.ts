/**
 * A LoRA adapter trained by ragrpo on SmolLM2-135M-Instruct loads in PEFT and gives the same logits.
 *
 * The adapter is deterministic: seeded createLora (r=8, alpha 16, q_proj + v_proj: the pipelines' PEFT default),
 * four Trainer.sftStep steps on fixed examples with one ONNX Runtime thread, saveLora. Its sha256 and PEFT's logits
 * for fixed token ids are committed (tools/reference/peft_lora_parity.json), written by
 * tools/reference/peft_lora_parity.py: transformers 4.46 loads the model folder, `PeftModel.from_pretrained` the
 * adapter folder; the script also checks every tensor in adapter_model.safetensors landed in its LoRA module.
 *
 * Here the adapter is trained again, loaded back with loadLora, and ragrpo's logits are compared with PEFT's within
 * 1e-3: with the oracle venv (tools/reference/setup_venv.sh) PEFT runs on this very adapter; without it the committed
 * fixture is used (the sha256 says whether this machine trained the same bytes). Skipped, and said so, without
 * models/smollm2-135m-instruct (npx tsx tools/models/fetch.ts all).
 *
 * Regenerate the fixture: RAGRPO_UPDATE_FIXTURES=1 npx vitest run tools/e2e/smollm2-peft.test.ts
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createLora, loadLora, loadModel, Policy, saveLora, Trainer } from '@ragrpo/model';
import { root } from './stage-cli.ts';

const run = promisify(execFile);
const MODEL = path.join(root, 'models', 'smollm2-135m-instruct');
const PYTHON = path.join(root, 'tools', 'reference', '.venv', 'bin', 'python');
const SCRIPT = path.join(root, 'tools', 'reference', 'peft_lora_parity.py');
const FIXTURE = path.join(root, 'tools', 'reference', 'peft_lora_parity.json');
const hasModel = fs.existsSync(path.join(MODEL, 'model.safetensors'));
// RAGRPO_PEFT_FIXTURE_ONLY=1: compare with the committed fixture even where the venv exists (as CI without Python does).
const hasVenv = fs.existsSync(PYTHON) && !process.env.RAGRPO_PEFT_FIXTURE_ONLY;
if (!hasModel) console.warn(`smollm2-peft.test.ts: SKIPPED the PEFT parity check: ${path.relative(root, MODEL)} is absent (npx tsx tools/models/fetch.ts all)`);
else if (!hasVenv) console.warn('smollm2-peft.test.ts: no oracle venv (tools/reference/setup_venv.sh): comparing with the committed PEFT fixture');

const TOLERANCE = 1e-3;

interface Fixture {
  adapter_sha256: string;
  config_sha256: string;
  ids: number[][];
  columns: number[];
  /** per sequence, per position: PEFT's logits at `columns`, then at that position's top-10 (ids in `top_ids`) */
  logits: number[][][];
  top_ids: number[][][];
  top_logits: number[][][];
  logsumexp: number[][];
  base_max_abs_delta: number;
  loaded_tensors: number;
  versions: Record<string, string>;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ragrpo-peft-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe.skipIf(!hasModel)('a ragrpo LoRA adapter in PEFT (SmolLM2-135M-Instruct)', () => {
  it('PeftModel.from_pretrained on the transformers model gives ragrpo\'s logits within 1e-3', async () => {
    const model = await loadModel(MODEL);
    const tok = model.tokenizer!;
    const chat = (q: string, a: string) => ({
      promptIds: tok.applyChatTemplateIds([{ role: 'user', content: q }], { addGenerationPrompt: true }),
      completionIds: tok.encode(`${a}<|im_end|>`, { addSpecialTokens: false }),
    });
    const examples = [
      chat('Which wine is described as: "Ripe black plum, leather and spice"?', 'Tenute Silvio Nardi 2007 Poggio Doria (Brunello di Montalcino).'),
      chat('How many points did Nicora 2014 Euphoric get?', 'It scored 93 points.'),
    ];
    // The deterministic adapter: seeded A, B = 0 (PEFT's init), four SFT steps, one thread.
    const lora = createLora(model.config, { r: 8, alpha: 16, dropout: 0, targetModules: ['q_proj', 'v_proj'] }, 7);
    const trained = new Policy({ config: model.config, weights: model.weights }, { lora, trainable: 'lora', threads: 1 });
    const trainer = new Trainer(trained, { lr: 2e-2, maxGradNorm: 1 });
    const losses: number[] = [];
    for (let s = 0; s < 4; s++) losses.push((await trainer.sftStep(examples)).loss);
    await trained.release();
    expect(losses[3]).toBeLessThan(losses[0]);
    const adapterDir = path.join(dir, 'adapter');
    saveLora(adapterDir, lora, { baseModel: 'HuggingFaceTB/SmolLM2-135M-Instruct' });
    expect(fs.readdirSync(adapterDir).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const adapterSha = sha256(path.join(adapterDir, 'adapter_model.safetensors'));

    // Fixed token ids: two chat-templated prompts cut to the same length.
    const texts = ['What does Matt Kettmann say about this Grenache from Adelaida District?', 'Name a Brunello di Montalcino with notes of leather and tilled soil.'];
    const rows = texts.map((t) => tok.applyChatTemplateIds([{ role: 'user', content: t }], { addGenerationPrompt: true }));
    const T = Math.min(...rows.map((r) => r.length));
    const ids = rows.map((r) => r.slice(0, T));

    let fixture: Fixture;
    if (hasVenv) {
      const out = process.env.RAGRPO_UPDATE_FIXTURES ? FIXTURE : path.join(dir, 'peft.json');
      const idsFile = path.join(dir, 'ids.json');
      fs.writeFileSync(idsFile, JSON.stringify(ids));
      const { stderr } = await run(PYTHON, [SCRIPT, '--model', MODEL, '--adapter', adapterDir, '--ids-json', idsFile, '--out', out], { maxBuffer: 16 << 20, env: { ...process.env, OMP_NUM_THREADS: '2', OMP_WAIT_POLICY: 'PASSIVE' } });
      console.log(stderr.trim().split('\n').filter((l) => l.startsWith('peft_lora_parity')).join('\n'));
      fixture = JSON.parse(fs.readFileSync(out, 'utf8')) as Fixture;
      expect(fixture.adapter_sha256).toBe(adapterSha);
    } else {
      fixture = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as Fixture;
      if (fixture.adapter_sha256 !== adapterSha) console.warn(`smollm2-peft.test.ts: this machine trained other adapter bytes (sha256 ${adapterSha.slice(0, 12)} vs the fixture's ${fixture.adapter_sha256.slice(0, 12)}): the comparison holds only as far as the two adapters agree`);
    }
    expect(fixture.ids).toEqual(ids);
    expect(fixture.loaded_tensors).toBe(lora.weights.size);

    // ragrpo's logits: the saved folder read back (what a PEFT user would hand ragrpo), the base, and the adapter.
    const withAdapter = new Policy({ config: model.config, weights: model.weights }, { lora: loadLora(adapterDir, model.config), trainable: 'none' });
    const base = new Policy({ config: model.config, weights: model.weights });
    const ours = await withAdapter.forwardLogits(ids);
    const plain = await base.forwardLogits(ids);
    await withAdapter.release();
    await base.release();
    const V = model.config.vocabSize;
    let maxErr = 0;
    let maxEffect = 0;
    for (let b = 0; b < ids.length; b++) {
      for (let t = 0; t < T; t++) {
        const row = ours.data.subarray((b * T + t) * V, (b * T + t + 1) * V);
        const baseRow = plain.data.subarray((b * T + t) * V, (b * T + t + 1) * V);
        fixture.columns.forEach((c, k) => {
          maxErr = Math.max(maxErr, Math.abs(row[c] - fixture.logits[b][t][k]));
          maxEffect = Math.max(maxEffect, Math.abs(row[c] - baseRow[c]));
        });
        fixture.top_ids[b][t].forEach((c, k) => { maxErr = Math.max(maxErr, Math.abs(row[c] - fixture.top_logits[b][t][k])); });
        let m = -Infinity;
        for (const x of row) m = Math.max(m, x);
        let sum = 0;
        for (const x of row) sum += Math.exp(x - m);
        maxErr = Math.max(maxErr, Math.abs(m + Math.log(sum) - fixture.logsumexp[b][t]));
        // the same argmax as PEFT
        let arg = 0;
        for (let i = 1; i < V; i++) if (row[i] > row[arg]) arg = i;
        expect(arg).toBe(fixture.top_ids[b][t][0]);
      }
    }
    console.log(`smollm2-peft: ${ids.length}x${T} positions, ${fixture.columns.length} columns + top-10 + logsumexp each: max |ragrpo - PEFT| = ${maxErr.toExponential(2)}; the adapter moves the logits by up to ${maxEffect.toFixed(3)} (PEFT: ${fixture.base_max_abs_delta.toFixed(3)}); peft ${fixture.versions.peft}, transformers ${fixture.versions.transformers}, torch ${fixture.versions.torch}`);
    expect(maxErr).toBeLessThan(TOLERANCE);
    // The check means something: the adapter moves the logits far more than the tolerance.
    expect(maxEffect).toBeGreaterThan(100 * TOLERANCE);
  }, 600_000);
});
