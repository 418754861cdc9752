/**
 * Builds a tiny sequence-classification model in the Hugging Face layout transformers.js loads
 * (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx), so the reward tests run
 * the real loading and inference path with logits that can be worked out by hand:
 *
 *   logits[b] = mean over the unpadded tokens t of E[t]  +  bias
 *
 * E is [vocab, num_labels], given per word; every other token (special tokens, [UNK]) has a zero row.
 * Tokenizer: BERT normaliser (lower-case) and pre-tokenizer, whole-word WordPiece vocabulary.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeModel, type ConstTensor, type NodeDef } from '@ragrpo/graph';

const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'];

export interface TinyClassifierSpec {
  /** Label names in id order (1 for a reward model). */
  labels: string[];
  /** Word -> its row of E (one value per label). */
  words: Record<string, number[]>;
  bias: number[];
}

export async function buildTinyClassifier(dir: string, spec: TinyClassifierSpec): Promise<string> {
  const K = spec.labels.length;
  const vocab = [...SPECIAL, ...Object.keys(spec.words)];
  const E = new Float32Array(vocab.length * K);
  vocab.forEach((w, i) => spec.words[w]?.forEach((v, k) => { E[i * K + k] = v; }));
  const f32 = (name: string, dims: number[], data: number[] | Float32Array): ConstTensor => ({ name, dtype: 'float32', dims, data: Float32Array.from(data) });
  const i64 = (name: string, values: number[]): ConstTensor => ({ name, dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
  const nodes: NodeDef[] = [];
  const op = (opType: string, inputs: string[], output: string, attrs: NodeDef['attrs'] = {}) => {
    nodes.push({ opType, inputs, outputs: [output], name: output, attrs });
    return output;
  };
  const emb = op('Gather', ['E', 'input_ids'], 'emb', { axis: { i: 0 } });                 // [B,S,K]
  const mask = op('Unsqueeze', [op('Cast', ['attention_mask'], 'mask_f', { to: { i: 1 } }), 'axis2'], 'mask3'); // [B,S,1]
  const summed = op('ReduceSum', [op('Mul', [emb, mask], 'masked'), 'axis1'], 'summed', { keepdims: { i: 0 } }); // [B,K]
  const count = op('ReduceSum', [mask, 'axis1'], 'count', { keepdims: { i: 0 } });        // [B,1]
  op('Add', [op('Div', [summed, count], 'mean'), 'bias'], 'logits');
  const bytes = writeModel({
    name: 'tiny-classifier', opset: 17, nodes,
    inputs: [
      { name: 'input_ids', dtype: 'int64', shape: ['batch_size', 'sequence_length'] },
      { name: 'attention_mask', dtype: 'int64', shape: ['batch_size', 'sequence_length'] },
    ],
    outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch_size', K] }],
    initializers: [f32('E', [vocab.length, K], E), f32('bias', [K], spec.bias), i64('axis1', [1]), i64('axis2', [2])],
  });
  const config = {
    model_type: 'bert', architectures: ['BertForSequenceClassification'],
    vocab_size: vocab.length, hidden_size: K, num_hidden_layers: 1, num_attention_heads: 1, max_position_embeddings: 512,
    id2label: Object.fromEntries(spec.labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(spec.labels.map((l, i) => [l, i])),
    problem_type: K === 1 ? 'regression' : 'single_label_classification',
    pad_token_id: 0,
  };
  const special = (content: string) => ({ id: vocab.indexOf(content), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const tokenizer = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: SPECIAL.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: false, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
  };
  const tokenizerConfig = {
    tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 512,
    pad_token: '[PAD]', unk_token: '[UNK]', cls_token: '[CLS]', sep_token: '[SEP]',
  };
  await mkdir(path.join(dir, 'onnx'), { recursive: true });
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  await writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  await writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2));
  await writeFile(path.join(dir, 'onnx', 'model.onnx'), bytes);
  return dir;
}
