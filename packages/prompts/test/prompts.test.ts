import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableRows } from '@ragrpo/contracts';
import { buildScratchModel, loadTokenizer, type Tokenizer } from '@ragrpo/model';
import {
  BUILTIN_TEMPLATES, buildPrompts, contextByQuestion, numberedDocuments, renderPrompt, resolveTemplate,
  type PromptTokenizer, type RankedChunk,
} from '../src/index.ts';

// A tokenizer whose token counts are worked out by hand: one id per whitespace-separated word.
const words: PromptTokenizer = {
  folder: 'word-tokenizer',
  hasChatTemplate: false,
  encode: (text) => text.split(/\s+/).filter(Boolean).map((w) => w.length),
  applyChatTemplate: () => { throw new Error('no chat template'); },
};

const ranked = (q: string, chunks: [string, number, number, boolean][]): RankedChunk[] =>
  chunks.map(([text, pov, sim, inContext], i) => ({ question_id: q, chunk_id: `${q}-c${i}`, text, context_rank: pov, similarity_rank: sim, in_context: inContext }));

let dir: string;
let chatml: Tokenizer;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'prompts-test-'));
  const built = await buildScratchModel({
    out: path.join(dir, 'model'), arch: 'llama', layers: 1, hidden: 16, heads: 2, intermediate: 32, maxPositions: 256, seed: 0,
    corpus: ['Answer the question using the documents. Which wine is red? A red wine from Tuscany.'], vocabSize: 300,
  });
  chatml = await loadTokenizer(built.out);
}, 120_000);
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('the context', () => {
  it('numbers the in-context chunks as seed 003 does, in POV or retrieval order', () => {
    const rows = ranked('q1', [['alpha', 2, 1, true], ['beta', 1, 2, true], ['gamma', 3, 3, false]]);
    const pov = contextByQuestion(rows, 'rank').get('q1')!;
    expect(pov.map((c) => c.text)).toEqual(['beta', 'alpha']); // gamma is not in the context
    expect(contextByQuestion(rows, 'similarity').get('q1')!.map((c) => c.text)).toEqual(['alpha', 'beta']);
    expect(numberedDocuments(pov)).toBe('Document 1:\n\nbeta\n\nDocument 2:\n\nalpha');
  });
});

describe('renderPrompt', () => {
  const file = { name: 't', text: 'Q: {question}\n{documents}', chat: 'never' as const };
  const chunks = [{ chunkId: 'a', text: 'one two three' }, { chunkId: 'b', text: 'four five six' }, { chunkId: 'c', text: 'seven eight nine' }];

  it('drops whole chunks from the end until the prompt fits, and records how many', () => {
    // "Q: why" = 2 words; each document adds "Document", "N:" and its 3 words = 5: 2 + 5k tokens
    const all = renderPrompt(file, 'why', chunks, words, { maxTokens: 17, system: '' });
    expect(all.ids).toHaveLength(17);
    expect(all.chunksDropped).toBe(0);
    const two = renderPrompt(file, 'why', chunks, words, { maxTokens: 16, system: '' });
    expect(two.chunks.map((c) => c.chunkId)).toEqual(['a', 'b']);
    expect(two.ids).toHaveLength(12);
    expect(two.chunksDropped).toBe(1);
    expect(two.text).toBe('Q: why\nDocument 1:\n\none two three\n\nDocument 2:\n\nfour five six');
  });

  it('keeps the end of a question too long even without context, cut at token boundaries', () => {
    const r = renderPrompt(file, 'a b c d e f', chunks, words, { maxTokens: 4, system: '' });
    expect(r.truncated).toBe(true);
    expect(r.chunks).toEqual([]);
    expect(r.chunksDropped).toBe(3);
    expect(r.ids).toEqual([1, 1, 1, 1]); // the last four one-letter words
  });

  it('renders seed 002\'s alpaca prompt as plain text', () => {
    const r = renderPrompt(BUILTIN_TEMPLATES.alpaca, 'Which wine?', [{ chunkId: 'a', text: 'A red.' }], words, { maxTokens: 1000, system: '' });
    expect(r.text).toContain('### Instruction:\nWhich wine?\n\n### Input:\nDocument 1:\n\nA red.\n\n### Response:\n');
    expect(r.text.startsWith('You are an excellent AI assistant.')).toBe(true);
  });

  it('renders the chat template through the model\'s own tokenizer (ChatML)', () => {
    const r = renderPrompt(BUILTIN_TEMPLATES.chat, 'Which wine is red?', [{ chunkId: 'a', text: 'A red wine from Tuscany.' }], chatml, { maxTokens: 1000, system: 'Be brief.' });
    expect(r.text).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nAnswer the question using the documents.\n\n'
      + 'Document 1:\n\nA red wine from Tuscany.\n\nQuestion: Which wine is red?<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(chatml.decode(r.ids)).toBe(r.text);
  });

  it('refuses the chat template on a tokenizer without one, naming the folder and what to use', () => {
    expect(() => renderPrompt(BUILTIN_TEMPLATES.chat, 'q', [], words, { maxTokens: 10, system: '' }))
      .toThrow(/word-tokenizer: the tokenizer has no chat template, which prompts.template 'chat' needs/);
    // seed 003's prompt falls back to plain text there
    expect(renderPrompt(BUILTIN_TEMPLATES.context_only, 'q', [], words, { maxTokens: 100, system: '' }).text).toMatch(/^Answer the question based on the provided context/);
  });
});

describe('template files', () => {
  it('need {question}, and know only {question}, {context} and {documents}', async () => {
    const good = path.join(dir, 'good.txt');
    await writeFile(good, 'Context: {context}\nQ: {question}\nA:');
    const spec = resolveTemplate({ file: good, chat: false }, (p) => p, 'prompts.template');
    expect(spec).toMatchObject({ name: 'good', chat: 'never' });
    const r = renderPrompt(spec, 'why', [{ chunkId: 'a', text: 'x y' }, { chunkId: 'b', text: 'z' }], words, { maxTokens: 100, system: '' });
    expect(r.text).toBe('Context: x y\n\nz\nQ: why\nA:');
    await writeFile(path.join(dir, 'noq.txt'), 'Context: {context}');
    expect(() => resolveTemplate({ file: path.join(dir, 'noq.txt'), chat: false }, (p) => p, 'prompts.template')).toThrow(/noq.txt: the template has no \{question\} placeholder/);
    await writeFile(path.join(dir, 'typo.txt'), '{question} {contxt}');
    expect(() => resolveTemplate({ file: path.join(dir, 'typo.txt'), chat: false }, (p) => p, 'prompts.template')).toThrow(/unknown placeholder \{contxt\}/);
    expect(() => resolveTemplate({ file: path.join(dir, 'none.txt'), chat: false }, (p) => p, 'prompts.alternatives[0]')).toThrow(/prompts.alternatives\[0\].file: cannot read/);
  });
});

describe('buildPrompts', () => {
  it('writes one row per question and template, flags questions with no context, and counts tokens with the policy tokenizer', () => {
    const questions = [
      { question_id: 'q1', question: 'Which wine is red?', reference: 'A red wine', split: 'train' },
      { question_id: 'q2', question: 'Nothing retrieved?', reference: null, split: 'test' },
    ];
    const { table, report } = buildPrompts(questions, ranked('q1', [['A red wine from Tuscany.', 1, 1, true]]), chatml, {
      templates: [BUILTIN_TEMPLATES.chat, BUILTIN_TEMPLATES.context_only], contextOrder: 'rank', maxPromptTokens: 500, maxChunkChars: 0, system: '',
    });
    const rows = tableRows<{ question_id: string; template: string; is_main: boolean; prompt: string; prompt_ids: Int32Array; prompt_tokens: number; no_context: boolean; chunk_ids: string[]; reference: string | null }>(table);
    expect(rows.map((r) => `${r.question_id}:${r.template}:${r.is_main}`)).toEqual(['q1:chat:true', 'q1:context_only:false', 'q2:chat:true', 'q2:context_only:false']);
    expect(rows[0].prompt_tokens).toBe(chatml.encode(rows[0].prompt).length);
    expect(Array.from(rows[0].prompt_ids)).toEqual(chatml.encode(rows[0].prompt));
    expect(Array.from(rows[0].chunk_ids)).toEqual(['q1-c0']);
    expect(rows.map((r) => r.no_context)).toEqual([false, false, true, true]);
    expect(rows[2].reference).toBeNull();
    expect(report).toMatchObject({ questions: 2, prompts: 4, no_context: 2, truncated: 0 });
  });
});
