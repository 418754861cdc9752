/**
 * The tokenizer files of a scratch model: a byte-level BPE trained on a corpus, written as tokenizer.json +
 * tokenizer_config.json with a ChatML chat template (Qwen2.5 style): eos <|im_end|>, pad <|endoftext|>, no BOS added.
 */
import { CHATML_ADDED_TOKENS, tokenizerJson, trainByteLevelBpe, type BpeTokenizerSpec } from './bpe-trainer.ts';

/** ChatML: <|im_start|>{role}\n{content}<|im_end|>\n ... and <|im_start|>assistant\n as generation prompt. */
export const CHATML_TEMPLATE =
  "{%- for message in messages %}" +
  "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

export interface ScratchTokenizer {
  bpe: BpeTokenizerSpec;
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  ids: { endoftext: number; imStart: number; imEnd: number };
}

export interface ScratchTokenizerOptions {
  /** Training texts (each pre-tokenised on its own). */
  corpus: Iterable<string>;
  /** Bytes + merges + the 5 ChatML/think added tokens. */
  vocabSize: number;
  /** tokenizer_config.json tokenizer_class, e.g. PreTrainedTokenizerFast or Qwen2Tokenizer. */
  tokenizerClass: string;
  modelMaxLength: number;
  minFrequency?: number;
}

/** Trains the BPE on `corpus` and returns the tokenizer.json and tokenizer_config.json documents. */
export function buildScratchTokenizer(opts: ScratchTokenizerOptions): ScratchTokenizer {
  const bpe = trainByteLevelBpe(opts.corpus, { vocabSize: opts.vocabSize, specialTokens: CHATML_ADDED_TOKENS, minFrequency: opts.minFrequency });
  const id = (content: string): number => bpe.addedTokens.find((t) => t.content === content)!.id;
  const addedDecoder = Object.fromEntries(
    bpe.addedTokens.map((t) => [
      String(t.id),
      { content: t.content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: t.special },
    ]),
  );
  const tokenizerConfig = {
    add_bos_token: false,
    add_eos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: addedDecoder,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    bos_token: null,
    chat_template: CHATML_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>',
    errors: 'replace',
    model_max_length: opts.modelMaxLength,
    pad_token: '<|endoftext|>',
    split_special_tokens: false,
    tokenizer_class: opts.tokenizerClass,
    unk_token: null,
  };
  return {
    bpe,
    tokenizerJson: tokenizerJson(bpe),
    tokenizerConfig,
    ids: { endoftext: id('<|endoftext|>'), imStart: id('<|im_start|>'), imEnd: id('<|im_end|>') },
  };
}
