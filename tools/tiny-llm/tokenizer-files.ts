/**
 * The tokenizer side of a tiny model: a byte-level BPE trained on the built-in corpus, written as
 * tokenizer.json + tokenizer_config.json (ChatML chat template, Qwen2.5 style).
 */
import { tinyCorpus } from './corpus.ts';
import { tokenizerJson, trainByteLevelBpe, type SpecialToken, type TrainedBpe } from './bpe-trainer.ts';

/** Added tokens, in id order after the merges. <think>/</think> are text tokens as in Qwen3. */
export const TINY_ADDED_TOKENS: SpecialToken[] = [
  { content: '<|endoftext|>', special: true },
  { content: '<|im_start|>', special: true },
  { content: '<|im_end|>', special: true },
  { content: '<think>', special: false },
  { content: '</think>', special: false },
];

/** ChatML: <|im_start|>{role}\n{content}<|im_end|>\n ... and <|im_start|>assistant\n as generation prompt. */
export const CHATML_TEMPLATE =
  "{%- for message in messages %}" +
  "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

export interface TinyTokenizer {
  bpe: TrainedBpe;
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  ids: { endoftext: number; imStart: number; imEnd: number };
}

export function buildTinyTokenizer(opts: { vocabSize: number; tokenizerClass: string; modelMaxLength: number }): TinyTokenizer {
  const bpe = trainByteLevelBpe(tinyCorpus(), opts.vocabSize, TINY_ADDED_TOKENS);
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
