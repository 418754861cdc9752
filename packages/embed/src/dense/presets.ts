/**
 * What each embedding family expects, from its model card: the pooling it was trained with and the
 * text it wants in front of queries and documents. A pipeline setting always wins over these.
 */
export type Pooling = 'mean' | 'cls' | 'none';

export interface ModelPreset {
  pooling: Pooling;
  queryPrefix: string;
  documentPrefix: string;
}

const BGE_EN_QUERY = 'Represent this sentence for searching relevant passages: ';
const BGE_ZH_QUERY = '为这个句子生成表示以用于检索相关文章：';

const PRESETS: [RegExp, ModelPreset][] = [
  // e5 (intfloat/e5-*, multilingual-e5-*): "query: " / "passage: ", mean pooling.
  [/(^|[/_-])e5-/i, { pooling: 'mean', queryPrefix: 'query: ', documentPrefix: 'passage: ' }],
  // bge-m3: CLS pooling, no instruction.
  [/bge-m3/i, { pooling: 'cls', queryPrefix: '', documentPrefix: '' }],
  // bge-*-zh: CLS pooling, the Chinese retrieval instruction on queries.
  [/bge-.*-zh/i, { pooling: 'cls', queryPrefix: BGE_ZH_QUERY, documentPrefix: '' }],
  // bge-*-en(-v1.5): CLS pooling, the English retrieval instruction on queries.
  [/bge-/i, { pooling: 'cls', queryPrefix: BGE_EN_QUERY, documentPrefix: '' }],
  // nomic-embed-text: task prefixes, mean pooling.
  [/nomic-embed-text/i, { pooling: 'mean', queryPrefix: 'search_query: ', documentPrefix: 'search_document: ' }],
];

/** sentence-transformers models such as all-MiniLM-L6-v2 (and the tiny embedder): mean pooling, no prefix. */
const DEFAULT_PRESET: ModelPreset = { pooling: 'mean', queryPrefix: '', documentPrefix: '' };

export function modelPreset(model: string): ModelPreset {
  return PRESETS.find(([re]) => re.test(model))?.[1] ?? DEFAULT_PRESET;
}
