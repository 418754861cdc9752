import * as fs from 'node:fs';
import * as path from 'node:path';
import { env } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer, type Tokenizer } from '../src/loading/tokenizer.ts';
import { tempDir, tinyModelFolder } from './tiny-models.ts';

let folder: string;
let tok: Tokenizer;
let tokJson: { model: { vocab: Record<string, number> }; added_tokens: { id: number; content: string }[] };

beforeAll(async () => {
  folder = tinyModelFolder('qwen2');
  tokJson = JSON.parse(fs.readFileSync(path.join(folder, 'tokenizer.json'), 'utf8'));
  tok = await loadTokenizer(folder, { configVocabSize: 544 });
});

const addedId = (content: string): number => tokJson.added_tokens.find((t) => t.content === content)!.id;

describe('tokenizer from a tiny model folder', () => {
  it('loads offline with remote models disabled', () => {
    expect(env.allowRemoteModels).toBe(false);
    expect(tok.folder).toBe(folder);
    expect(tok.vocabSize).toBe(512);
  });

  it('round-trips text exactly, including unicode, whitespace runs and special tokens', () => {
    const texts = [
      'The Riesling from Mosel tastes of green apple.',
      'Café in Zürich — naïve 🍷🍇 ワイン, 18°C\n\n\ttabs  and   spaces ',
      'Ünïcödé outside the corpus: Ελληνικά, 中文, עברית, emoji 🧪🤖',
      '<|im_start|>user\nhi<|im_end|>\n<think>reasoning</think>answer',
      '',
    ];
    for (const t of texts) expect(tok.decode(tok.encode(t))).toBe(t);
  });

  it('uses the trained merges (whole frequent words are one token) and falls back to bytes', () => {
    // " the" and " wine" are frequent in the corpus: each must be a single merged token
    expect(tok.encode(' the')).toEqual([tokJson.model.vocab['Ġthe']]);
    expect(tok.encode(' wine')).toEqual([tokJson.model.vocab['Ġwine']]);
    // a character never seen in training is encoded as its UTF-8 bytes (ids 0..255 = byte values)
    expect(tok.encode('中')).toEqual([0xe4, 0xb8, 0xad]);
  });

  it('encodes added tokens as single ids and skips only control tokens when asked', () => {
    expect(tok.encode('<|im_start|>')).toEqual([addedId('<|im_start|>')]);
    expect(tok.encode('<think>')).toEqual([addedId('<think>')]);
    const ids = tok.encode('<|im_start|>assistant\n<think>x</think>ok<|im_end|>');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('assistant\n<think>x</think>ok');
    expect(tok.eosTokenId).toBe(addedId('<|im_end|>'));
    expect(tok.padTokenId).toBe(addedId('<|endoftext|>'));
    expect(tok.bosTokenId).toBeNull();
    expect(tok.specialTokenIds.sort()).toEqual([addedId('<|endoftext|>'), addedId('<|im_start|>'), addedId('<|im_end|>')].sort());
  });

  it('renders the ChatML chat template', () => {
    const messages = [
      { role: 'system', content: 'You are a sommelier.' },
      { role: 'user', content: 'Which wine goes with fish?' },
    ];
    expect(tok.applyChatTemplate(messages, { addGenerationPrompt: true })).toBe(
      '<|im_start|>system\nYou are a sommelier.<|im_end|>\n<|im_start|>user\nWhich wine goes with fish?<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(tok.applyChatTemplate(messages.slice(1))).toBe('<|im_start|>user\nWhich wine goes with fish?<|im_end|>\n');
    const ids = tok.applyChatTemplateIds(messages, { addGenerationPrompt: true });
    expect(ids.filter((i) => i === addedId('<|im_start|>')).length).toBe(3);
    expect(ids.filter((i) => i === addedId('<|im_end|>')).length).toBe(2);
    expect(ids[0]).toBe(addedId('<|im_start|>'));
  });
});

describe('tokenizer errors', () => {
  it('names the folder when tokenizer files are missing', async () => {
    const empty = path.join(tempDir('tokenizer-errors'), 'no-tokenizer');
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(empty, 'tokenizer.json'), '{}');
    await expect(loadTokenizer(empty)).rejects.toThrow(`${empty}: tokenizer file(s) missing: tokenizer_config.json`);
  });
  it('refuses a tokenizer with more ids than config vocab_size, naming both numbers', async () => {
    await expect(loadTokenizer(folder, { configVocabSize: 500 })).rejects.toThrow(/tokenizer has 512 ids but config\.json vocab_size is 500/);
  });
  it('refuses a folder without a chat template when asked to format chat', async () => {
    const plain = path.join(tempDir('tokenizer-errors'), 'plain');
    fs.mkdirSync(plain);
    fs.copyFileSync(path.join(folder, 'tokenizer.json'), path.join(plain, 'tokenizer.json'));
    const cfg = JSON.parse(fs.readFileSync(path.join(folder, 'tokenizer_config.json'), 'utf8'));
    delete cfg.chat_template;
    fs.writeFileSync(path.join(plain, 'tokenizer_config.json'), JSON.stringify(cfg));
    const t = await loadTokenizer(plain);
    expect(t.hasChatTemplate).toBe(false);
    expect(() => t.applyChatTemplate([{ role: 'user', content: 'x' }])).toThrow(/plain: tokenizer_config\.json has no chat_template/);
  });
});
