import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStageContext, digestPaths, loadPipelineText, SftSection } from '@ragrpo/config';
import {
  Chunks, policyAdapterFolder, policyFolder, Prompts, readPolicyRecord, readTable, SftLoss, tableFromRows, tableRows, writeTable, type PolicyRecord,
} from '@ragrpo/contracts';
import { loadPolicy } from '@ragrpo/generate';
import { buildScratchModel, loadLora, loadModel, Policy, sample, type SftExample, type Tokenizer } from '@ragrpo/model';
import type { Logger } from '@ragrpo/progress';
import { finetuneExamples, meanNll, packTexts, phaseBatches, planPhase, sftStage, type PromptRow } from '../src/index.ts';

// The sft stage on a tiny scratch model, run through its stage function with real artifacts in a
// temporary workspace: what it learns (pretrain and finetune lower their losses), what it trains on
// (answer tokens only, checked against a hand-computed NLL), what it writes (a Hugging Face folder or
// PEFT files, and a record later stages load) and that it reproduces byte for byte.

const WINES = [
  'Tongue Dancer 2014 Pinot Noir scored 92 points and costs 65 dollars.',
  'Castello Banfi 2010 Brunello scored 95 points and costs 80 dollars.',
  'Bodega Norton 2016 Malbec scored 86 points and costs 12 dollars.',
  'Domaine Weinbach 2015 Riesling scored 93 points and costs 45 dollars.',
  'Ridge 2013 Zinfandel scored 90 points and costs 35 dollars.',
  'Penfolds 2012 Shiraz scored 94 points and costs 70 dollars.',
  'Cloudy Bay 2017 Sauvignon Blanc scored 89 points and costs 28 dollars.',
  'Vega Sicilia 2009 Unico scored 97 points and costs 300 dollars.',
];
const QUESTIONS = WINES.map((w, i) => {
  const name = w.split(' scored')[0];
  const points = w.match(/scored (\d+)/)![1];
  return { id: `q${i}`, question: `How many points did ${name} score?`, reference: `${points} points.`, split: i < 6 ? 'train' : 'test' };
});

let root: string;
let tokenizer: Tokenizer;
let baseModelDir: string;

const silent: Logger & { warnings: string[] } = { warnings: [], info: () => undefined, warn(m) { this.warnings.push(m); }, error: () => undefined };
const art = (name: string, ...p: string[]) => path.join(root, 'artifacts', name, ...p);
const promptIds = (q: string) => tokenizer.encode(`Question: ${q}\nAnswer: `);

/** A pipeline folder with the upstream artifacts sft reads: ingest's chunks, the policy (record + model) and prompts. */
async function fixture(name: string, trainable: 'full' | 'lora', opts: { references?: boolean } = {}): Promise<void> {
  mkdirSync(art(name, 'policy'), { recursive: true });
  cpSync(baseModelDir, art(name, 'policy', 'model'), { recursive: true });
  const model = await loadModel(art(name, 'policy', 'model'));
  const record: PolicyRecord = {
    format: 'ragrpo.policy', version: 1, source: 'scratch', model: 'scratch', location: { base: 'artifact', path: 'model' },
    digest: digestPaths(['.'], art(name, 'policy', 'model')), architecture: model.config.architecture, num_parameters: 0,
    vocab_size: model.config.vocabSize, max_seq_length: 128, trainable,
    lora: { r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'] }, dtype: 'float32', has_chat_template: true,
  };
  writeFileSync(art(name, 'policy', 'policy.json'), JSON.stringify(record, null, 2));
  mkdirSync(art(name, 'ingest'), { recursive: true });
  await writeTable(art(name, 'ingest', 'chunks.arrow'), Chunks, tableFromRows(Chunks, WINES.flatMap((text, i) => [0, 1].map((k) => ({
    chunk_id: `c${i}-${k}`, doc_id: `d${i}`, source: 'wines.csv', text, start_index: 0, chunk_index: k, page: null, metadata: '{}',
  })))));
  mkdirSync(art(name, 'prompts'), { recursive: true });
  const rows = QUESTIONS.flatMap((q) => [true, false].map((main) => {
    const ids = main ? promptIds(q.question) : tokenizer.encode(`Other template: ${q.question}`);
    return {
      question_id: q.id, split: q.split, template: main ? 'plain' : 'other', is_main: main, question: q.question,
      reference: opts.references === false ? null : q.reference, prompt: '', prompt_ids: ids, prompt_tokens: ids.length,
      context: '', chunk_ids: [], chunks_dropped: 0, no_context: true, truncated: false,
    };
  }));
  await writeTable(art(name, 'prompts', 'prompts.arrow'), Prompts, tableFromRows(Prompts, rows));
}

/** Runs the stage function on a fixture pipeline, into `out` (default: the pipeline's sft folder). */
function runSft(name: string, settings: unknown, out = 'sft'): Promise<string> {
  rmSync(art(name, out), { recursive: true, force: true });
  mkdirSync(art(name, out), { recursive: true });
  const ctx = createStageContext({
    stage: 'sft', pipeline: { name, file: `${name}.yaml` }, seed: 7, settings: SftSection.parse(settings), root, outDir: art(name, out),
    present: ['ingest', 'embed', 'index', 'rank', 'policy', 'prompts', 'sft'], log: silent,
  });
  return sftStage(ctx);
}

type Row = { phase: string; step: number; loss: number; eval_loss: number | null; learning_rate: number; tokens: number };
const lossRows = async (name: string, out = 'sft') => tableRows<Row>(await readTable(art(name, out, 'loss.arrow'), SftLoss));

async function policyAt(folder: string): Promise<Policy> {
  const m = await loadModel(folder);
  return new Policy({ config: m.config, weights: m.weights });
}

const answerIds = (q: (typeof QUESTIONS)[number]) => [...tokenizer.encode(q.reference), tokenizer.eosTokenId!];
const handExamples = (split: string): SftExample[] => QUESTIONS.filter((q) => q.split === split).map((q) => ({ promptIds: promptIds(q.question), completionIds: answerIds(q) }));

beforeAll(async () => {
  delete process.env.RAGRPO_ARTIFACTS;
  root = await mkdtemp(path.join(os.tmpdir(), 'sft-test-'));
  const built = await buildScratchModel({
    out: path.join(root, 'base-model'), arch: 'llama', layers: 1, hidden: 32, heads: 2, intermediate: 64, maxPositions: 256, seed: 3,
    corpus: [...WINES, ...QUESTIONS.map((q) => `Question: ${q.question}\nAnswer: ${q.reference}`)], vocabSize: 360, initStd: 0.1,
  });
  baseModelDir = built.out;
  tokenizer = (await loadModel(baseModelDir)).tokenizer!;
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('finetune examples and pretraining windows', () => {
  const words = (t: string) => t.split(/\s+/).filter(Boolean).map((w) => w.length);
  const row = (id: string, split: string, reference: string | null, ids: number[], main = true): PromptRow => ({ question_id: id, split, is_main: main, reference, prompt_ids: ids });

  it('takes the main template of the split, appends EOS, skips questions without a reference and cuts long answers at their end', () => {
    const rows = [
      row('a', 'train', 'one two three', [1, 2, 3]),
      row('a', 'train', 'one two three', [9, 9], false), // a variant template: not trained on
      row('b', 'train', null, [1]),
      row('c', 'train', 'aaaaa bbbbbb ccccccc dddddddd', [1, 2, 3, 4]),
      row('d', 'train', 'x', [1, 2, 3, 4, 5, 6, 7, 8]),
      row('e', 'test', 'yy', [1]),
    ];
    const d = finetuneExamples(rows, { split: 'train', encode: words, eosId: 0, maxLength: 8, completionOnly: true });
    expect(d.examples.map((e) => e.questionId)).toEqual(['a', 'c']);
    expect(d.examples[0]).toMatchObject({ promptIds: [1, 2, 3], completionIds: [3, 3, 5, 0] });
    // 4 prompt tokens leave 4 answer tokens: 5 6 7 8 EOS loses its last token (the EOS)
    expect(d.examples[1]).toMatchObject({ promptIds: [1, 2, 3, 4], completionIds: [5, 6, 7, 8] });
    expect(d).toMatchObject({ questions: 4, noReference: 1, truncated: 1, truncatedTokens: 1, promptTooLong: 1 });
    // completion_only_loss false: everything after the first token is predicted
    const all = finetuneExamples(rows, { split: 'test', encode: words, eosId: 0, maxLength: 8, completionOnly: false });
    expect(all.examples[0]).toMatchObject({ promptIds: [1], completionIds: [2, 0] });
  });

  it('concatenates texts with EOS between them into max_length windows, dropping the partial last one', () => {
    const p = packTexts(['a bb', 'ccc', 'dddd eeeee ffffff'], words, 0, 4);
    // stream: 1 2 0 3 0 4 5 6 (+ nothing left)
    expect(p.windows).toEqual([{ promptIds: [1], completionIds: [2, 0, 3] }, { promptIds: [0], completionIds: [4, 5, 6] }]);
    expect(p).toMatchObject({ tokens: 8, dropped: 0 });
    expect(packTexts(['a bb ccc'], words, 0, 2)).toMatchObject({ tokens: 3, dropped: 1 });
  });

  it('counts steps as transformers does and shuffles each epoch from the seed', () => {
    const s = SftSection.parse({ finetune: { num_train_epochs: 2, per_device_train_batch_size: 2, gradient_accumulation_steps: 2, warmup_ratio: 0.1 } }).finetune!;
    expect(planPhase(s, 10)).toEqual({ perStep: 4, stepsPerEpoch: 3, totalSteps: 6, warmupSteps: 1 });
    const batches = [...phaseBatches(10, 4, 6, 1, 'finetune')];
    expect(batches.map((b) => b.indices.length)).toEqual([4, 4, 2, 4, 4, 2]);
    expect(new Set(batches.slice(0, 3).flatMap((b) => b.indices)).size).toBe(10);
    expect(batches[0].indices).not.toEqual(batches[3].indices);
    expect([...phaseBatches(10, 4, 6, 1, 'finetune')]).toEqual(batches);
  });
});

describe('the sft: section', () => {
  const load = (sft: string) => () => loadPipelineText(`ingest:\n  documents: [{ kind: text, path: docs }]\nembed:\n  sparse: {}\n${sft}`, 'p.yaml');

  it('refuses a section that trains nothing, a typo and contradicting keys, naming them', () => {
    expect(load('sft:\n  eval_steps: 5\n')).toThrow(/sft.*configure pretrain, finetune or both/);
    expect(load('sft:\n  finetune:\n    learning_rat: 0.1\n')).toThrow(/learning_rat/);
    expect(load('sft:\n  finetune:\n    max_steps: 3\n    num_train_epochs: 1\n')).toThrow(/sft\.finetune\.num_train_epochs.*not both/);
    expect(load('sft:\n  pretrain:\n    lr_scheduler_type: constant\n    warmup_steps: 3\n')).toThrow(/constant_with_warmup/);
    expect(load('sft:\n  finetune: {}\n')().config.sft!.finetune).toMatchObject({ learning_rate: 2e-5, completion_only_loss: true, per_device_train_batch_size: 8 });
  });
});

describe('the sft stage on a tiny scratch model', () => {
  beforeAll(async () => {
    await fixture('full', 'full');
    await fixture('lora', 'lora');
    await fixture('noref', 'full', { references: false });
  }, 120_000);

  it('pretrain lowers the next-token loss on the chunk text', async () => {
    const summary = await runSft('full', { pretrain: { max_steps: 40, max_length: 24, per_device_train_batch_size: 4, learning_rate: 1e-2, warmup_steps: 2 }, logging_steps: 10 }, 'pre');
    expect(summary).toMatch(/^pretrain 40 steps on \d+ windows of 24/);
    const rows = await lossRows('full', 'pre');
    expect(rows.filter((r) => r.step > 0).map((r) => r.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(rows.every((r) => r.phase === 'pretrain')).toBe(true);
    // the chunk text as the stage packs it, scored by the start and the trained weights
    const windows = packTexts(WINES.flatMap((w) => [w, w]), (t) => tokenizer.encode(t), tokenizer.eosTokenId!, 24).windows;
    const before = await policyAt(baseModelDir);
    const after = await policyAt(art('full', 'pre', 'model'));
    const [b, a] = [await meanNll(before, windows, 8), await meanNll(after, windows, 8)];
    await before.release();
    await after.release();
    expect(a).toBeLessThan(b - 1);
    const trained = rows.filter((r) => r.step > 0);
    expect(trained.slice(-5).reduce((s, r) => s + r.loss, 0) / 5).toBeLessThan(trained[0].loss - 1);
    // every token of a window but its first carries loss
    expect(trained[0].tokens).toBe(4 * 23);
  });

  it('finetune trains on the answer tokens only: the step-1 loss is the hand-computed answer NLL, and it falls', async () => {
    await runSft('full', { finetune: { max_steps: 25, per_device_train_batch_size: 8, learning_rate: 1e-2 }, eval_steps: 5 });
    const rows = await lossRows('full');
    const train = handExamples('train');
    const test = handExamples('test');
    // by hand from Policy.logprobs: -mean log p over the answer tokens (+ EOS) only
    const base = await policyAt(baseModelDir);
    const nll = async (ex: SftExample[]) => {
      const lps = await base.logprobs(ex);
      const all = lps.flatMap((lp) => Array.from(lp));
      return -all.reduce((s, v) => s + v, 0) / all.length;
    };
    const answerOnly = await nll(train);
    const wholeSequence = await nll(train.map((e) => ({ promptIds: e.promptIds.slice(0, 1), completionIds: [...e.promptIds.slice(1), ...e.completionIds] })));
    const heldOut = await nll(test);
    await base.release();
    const step = (n: number) => rows.find((r) => r.step === n)!;
    expect(step(1).loss).toBeCloseTo(answerOnly, 4);
    expect(Math.abs(step(1).loss - wholeSequence)).toBeGreaterThan(1e-2);
    expect(step(1).tokens).toBe(train.reduce((s, e) => s + e.completionIds.length, 0));
    // row 0: the held-out loss before any update; then every eval_steps and at the end
    expect(step(0)).toMatchObject({ phase: 'finetune', learning_rate: 0, tokens: 0 });
    expect(step(0).eval_loss).toBeCloseTo(heldOut, 4);
    expect(rows.filter((r) => r.eval_loss !== null).map((r) => r.step)).toEqual([0, 5, 10, 15, 20, 25]);
    expect(step(25).loss).toBeLessThan(step(1).loss - 1);
    const after = await policyAt(art('full', 'sft', 'model'));
    expect(await meanNll(after, train, 8)).toBeLessThan(answerOnly - 1);
    await after.release();
    const report = JSON.parse(readFileSync(art('full', 'sft', 'report.json'), 'utf8'));
    expect(report).toMatchObject({ output: 'model', steps: 25, held_out: { examples: 2 }, pretrain: null, finetune: { examples: 6, no_reference: 0 } });
    expect(report.held_out_loss_before_finetune).toBeCloseTo(heldOut, 4);
    expect(report.held_out_loss_after_finetune).toBeCloseTo(step(25).eval_loss!, 6);
    expect(report.tokens_per_second).toBeGreaterThan(0);
  });

  it('full mode writes a folder loadModel loads, and the record points at it', async () => {
    const recordFile = art('full', 'sft', 'policy.json');
    const record = await readPolicyRecord(recordFile);
    expect(record).toMatchObject({ format: 'ragrpo.policy', trainable: 'full', location: { base: 'artifact', path: 'model' } });
    expect(record.adapter).toBeUndefined();
    const folder = policyFolder(record, recordFile, root);
    expect(folder).toBe(art('full', 'sft', 'model'));
    expect(record.digest).toBe(digestPaths(['.'], folder));
    const m = await loadModel(folder);
    expect(m.tokenizer).not.toBeNull();
    const base = await loadModel(baseModelDir);
    const w = 'model.layers.0.self_attn.q_proj.weight';
    expect(m.weights.get(w)!.data).not.toEqual(base.weights.get(w)!.data);
  });

  it('generate\'s loadPolicy on the sft record samples with the trained weights', async () => {
    const prompts = QUESTIONS.slice(0, 3).map((q) => promptIds(q.question));
    const greedy = async (p: Policy) => (await sample(p, prompts, { maxNewTokens: 6, temperature: 0 })).map((g) => g[0].tokens.join(' '));
    const base = await loadPolicy(art('full', 'policy', 'policy.json'), root);
    const warm = await loadPolicy(art('full', 'sft', 'policy.json'), root);
    const [b, w] = [await greedy(base.policy), await greedy(warm.policy)];
    await base.policy.release();
    await warm.policy.release();
    expect(w).not.toEqual(b);
    // the trained model answers its train questions: the reference's tokens come out greedily
    expect(w[0]).toBe(answerIds(QUESTIONS[0]).slice(0, 6).join(' '));
  });

  it('LoRA mode writes PEFT files loadable with loadLora over the start weights, and loadPolicy applies them', async () => {
    await runSft('lora', { finetune: { max_steps: 15, per_device_train_batch_size: 8, learning_rate: 2e-2 } });
    expect(existsSync(art('lora', 'sft', 'model'))).toBe(false);
    const recordFile = art('lora', 'sft', 'policy.json');
    const record = await readPolicyRecord(recordFile);
    expect(record).toMatchObject({ trainable: 'lora', location: { base: 'artifact', path: '../policy/model' }, adapter: { base: 'artifact', path: 'adapter' } });
    expect(policyFolder(record, recordFile, root)).toBe(art('lora', 'policy', 'model'));
    const adapterDir = policyAdapterFolder(record, recordFile, root)!;
    expect(adapterDir).toBe(art('lora', 'sft', 'adapter'));
    expect(record.adapter!.digest).toBe(digestPaths(['.'], adapterDir));
    expect(record.digest).toBe(digestPaths(['.'], art('lora', 'policy', 'model')));
    const cfg = JSON.parse(readFileSync(path.join(adapterDir, 'adapter_config.json'), 'utf8'));
    expect(cfg).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'] });
    const m = await loadModel(policyFolder(record, recordFile, root));
    const adapter = loadLora(adapterDir, m.config);
    const B = adapter.weights.get('model.layers.0.self_attn.q_proj.lora_B.weight')!;
    expect(B.data.some((v) => v !== 0)).toBe(true); // B starts at zero: it was trained
    const rows = await lossRows('lora');
    const trained = rows.filter((r) => r.step > 0);
    expect(trained[trained.length - 1].loss).toBeLessThan(trained[0].loss);
    const prompts = QUESTIONS.slice(0, 3).map((q) => promptIds(q.question));
    const greedy = async (p: Policy) => (await sample(p, prompts, { maxNewTokens: 6, temperature: 0 })).map((g) => g[0].tokens.join(' '));
    const base = await loadPolicy(art('lora', 'policy', 'policy.json'), root);
    const warm = await loadPolicy(recordFile, root);
    expect(warm.policy.lora).not.toBeNull();
    const [b, w] = [await greedy(base.policy), await greedy(warm.policy)];
    await base.policy.release();
    await warm.policy.release();
    expect(w).not.toEqual(b);
  });

  it('same seed, same settings: byte-identical loss.arrow, weights and adapter', async () => {
    const full = { pretrain: { max_steps: 4, max_length: 16, per_device_train_batch_size: 4, learning_rate: 1e-2 }, finetune: { max_steps: 3, per_device_train_batch_size: 4, learning_rate: 1e-2 }, eval_steps: 2 };
    await runSft('full', full, 'det-a');
    await runSft('full', full, 'det-b');
    for (const f of ['loss.arrow', 'policy.json', 'model/model.safetensors', 'model/tokenizer.json', 'model/config.json']) {
      expect(readFileSync(art('full', 'det-b', f)).equals(readFileSync(art('full', 'det-a', f))), f).toBe(true);
    }
    const lora = { finetune: { max_steps: 3, per_device_train_batch_size: 4, learning_rate: 1e-2 } };
    await runSft('lora', lora, 'det-a');
    await runSft('lora', lora, 'det-b');
    for (const f of ['loss.arrow', 'policy.json', 'adapter/adapter_model.safetensors', 'adapter/adapter_config.json']) {
      expect(readFileSync(art('lora', 'det-b', f)).equals(readFileSync(art('lora', 'det-a', f))), f).toBe(true);
    }
    const rows = await lossRows('full', 'det-a');
    expect(rows.map((r) => `${r.phase}:${r.step}`)).toEqual(['pretrain:0', 'pretrain:1', 'pretrain:2', 'pretrain:3', 'pretrain:4', 'finetune:0', 'finetune:1', 'finetune:2', 'finetune:3']);
  });

  it('finetune on questions without references says so; pretrain on them still runs', async () => {
    await expect(runSft('noref', { finetune: { max_steps: 2 } })).rejects.toThrow(/sft.finetune: nothing to train on: none of the 6 train questions has a reference answer/);
    silent.warnings.length = 0;
    await runSft('noref', { pretrain: { max_steps: 2, max_length: 16 } });
    expect(silent.warnings.join('\n')).toMatch(/no test question has a reference answer/);
    expect((await lossRows('noref')).every((r) => r.eval_loss === null)).toBe(true);
  });
});
