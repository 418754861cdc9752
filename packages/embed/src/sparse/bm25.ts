import { createAnalyzer, type Analyzer, type Bm25Language } from './analyzer.ts';

/** Everything needed to embed documents and queries the same way later: persisted as bm25.json. */
export interface Bm25Model {
  kind: 'bm25';
  version: 1;
  k1: number;
  b: number;
  language: Bm25Language;
  stem: boolean;
  /** The stop words in force (the built-in list or the file's), so bm25.json alone reproduces the analyzer. */
  stopwords: string[];
  /** Number of documents the statistics come from. */
  N: number;
  /** Average document length in terms (after stop words). */
  avgdl: number;
  /** Sorted terms; a term's index in this array is its sparse-vector index. */
  vocab: string[];
  /** Document frequency per vocab index. */
  df: number[];
}

export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
}

export interface Bm25FitOptions {
  k1: number;
  b: number;
  language: Bm25Language;
  stem: boolean;
  stopwords: readonly string[];
}

/** A fitted model with its analyzer and term lookup (what the vector functions need). */
export interface Bm25 {
  model: Bm25Model;
  analyze: Analyzer;
  termId: Map<string, number>;
}

function counts(terms: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of terms) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}

/** Attaches the analyzer and term lookup to a model (a fitted one or one read from bm25.json). */
export function bm25FromModel(model: Bm25Model): Bm25 {
  const analyze = createAnalyzer({ language: model.language, stem: model.stem, stopwords: model.stopwords });
  return { model, analyze, termId: new Map(model.vocab.map((t, i) => [t, i])) };
}

/**
 * Collects corpus statistics. The vocabulary is the sorted set of terms (plain code-unit order,
 * locale-independent), so the same corpus always gets the same term ids.
 */
export function fitBm25(documents: readonly string[] | readonly string[][], opts: Bm25FitOptions, onDocument?: () => void): Bm25 {
  const analyze = createAnalyzer({ language: opts.language, stem: opts.stem, stopwords: opts.stopwords });
  const df = new Map<string, number>();
  let totalLength = 0;
  for (const doc of documents) {
    const terms = typeof doc === 'string' ? analyze(doc) : doc;
    totalLength += terms.length;
    for (const t of new Set(terms)) df.set(t, (df.get(t) ?? 0) + 1);
    onDocument?.();
  }
  const vocab = [...df.keys()].sort();
  const N = documents.length;
  const model: Bm25Model = {
    kind: 'bm25', version: 1, k1: opts.k1, b: opts.b, language: opts.language, stem: opts.stem,
    stopwords: [...new Set(opts.stopwords)].sort(),
    N, avgdl: N > 0 ? totalLength / N : 0, vocab, df: vocab.map((t) => df.get(t) ?? 0),
  };
  return { model, analyze, termId: new Map(vocab.map((t, i) => [t, i])) };
}

/** Lucene's (and Qdrant's) BM25 IDF: never negative, unlike the original Robertson form. */
export function bm25Idf(N: number, df: number): number {
  return Math.log(1 + (N - df + 0.5) / (df + 0.5));
}

function sparseFrom(entries: [number, number][]): SparseVector {
  entries.sort((a, b) => a[0] - b[0]);
  return {
    indices: Int32Array.from(entries, (e) => e[0]),
    values: Float32Array.from(entries, (e) => e[1]),
  };
}

/**
 * Document side: each term's saturated, length-normalised frequency
 * tf*(k1+1) / (tf + k1*(1 - b + b*dl/avgdl)). Terms outside the vocabulary are dropped
 * (they have no column in the index).
 */
export function bm25DocumentVector(bm: Bm25, text: string): SparseVector {
  return bm25DocumentVectorFromTerms(bm, bm.analyze(text));
}

/** bm25DocumentVector for an already analysed document (saves a second pass over the corpus). */
export function bm25DocumentVectorFromTerms(bm: Bm25, terms: readonly string[]): SparseVector {
  const { k1, b, avgdl } = bm.model;
  const dl = terms.length;
  const norm = k1 * (1 - b + (avgdl > 0 ? (b * dl) / avgdl : 0));
  const entries: [number, number][] = [];
  for (const [t, tf] of counts(terms)) {
    const id = bm.termId.get(t);
    if (id !== undefined) entries.push([id, (tf * (k1 + 1)) / (tf + norm)]);
  }
  return sparseFrom(entries);
}

/**
 * Query side: the IDF of each distinct query term, so dot(query, document) is the BM25 score.
 * A repeated query word counts once (as in Qdrant's and fastembed's BM25 queries); unknown
 * words are dropped because no document contains them.
 */
export function bm25QueryVector(bm: Bm25, text: string): SparseVector {
  const { N, df } = bm.model;
  const entries: [number, number][] = [];
  for (const t of new Set(bm.analyze(text))) {
    const id = bm.termId.get(t);
    if (id !== undefined) entries.push([id, bm25Idf(N, df[id])]);
  }
  return sparseFrom(entries);
}

/** Sparse dot product of two vectors with sorted indices. */
export function sparseDot(a: SparseVector, b: SparseVector): number {
  let i = 0, j = 0, s = 0;
  while (i < a.indices.length && j < b.indices.length) {
    if (a.indices[i] === b.indices[j]) s += a.values[i++] * b.values[j++];
    else if (a.indices[i] < b.indices[j]) i++;
    else j++;
  }
  return s;
}

export function serializeBm25(model: Bm25Model): string {
  return JSON.stringify(model);
}

/** Parses bm25.json; a file from another tool or version is refused with a line saying what to do. */
export function parseBm25(text: string, where: string): Bm25Model {
  let m: Partial<Bm25Model>;
  try {
    m = JSON.parse(text) as Partial<Bm25Model>;
  } catch (err) {
    throw new Error(`${where}: not valid JSON (${(err as Error).message}); re-run the embed stage`);
  }
  const ok = m.kind === 'bm25' && m.version === 1 && Array.isArray(m.vocab) && Array.isArray(m.df)
    && m.vocab.length === m.df.length && typeof m.N === 'number' && typeof m.avgdl === 'number'
    && typeof m.k1 === 'number' && typeof m.b === 'number' && Array.isArray(m.stopwords)
    && typeof m.stem === 'boolean' && ['english', 'german', 'none'].includes(m.language as string);
  if (!ok) throw new Error(`${where}: not a ragrpo bm25.json (version 1) model; re-run the embed stage`);
  return m as Bm25Model;
}
