import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import type { Table } from 'apache-arrow';
import { mulberry32 } from '@ragrpo/config';
import { Chunks, DenseVectors, SparseVectors, tableFromRows } from '@ragrpo/contracts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const datasets = path.resolve(repoRoot, '..', 'shared', 'datasets');

/** A seeded PRNG (mulberry32) so every test sees the same data. */
export const seededRandom = mulberry32;

/** The oracle: every dot product, then a full sort (score descending, lower row first on ties). */
export function bruteForceTopK(q: Float32Array, nq: number, m: Float32Array, n: number, dim: number, k: number) {
  const indices: number[] = [];
  const scores: number[] = [];
  for (let i = 0; i < nq; i++) {
    const all = Array.from({ length: n }, (_, r) => {
      let s = 0;
      for (let d = 0; d < dim; d++) s += q[i * dim + d] * m[r * dim + d];
      return { r, s };
    });
    all.sort((a, b) => b.s - a.s || a.r - b.r);
    for (const { r, s } of all.slice(0, Math.min(k, n))) { indices.push(r); scores.push(Math.fround(s)); }
  }
  return { indices, scores };
}

export interface WineChunk { chunk_id: string; doc_id: string; text: string; metadata: string }

/** The first `n` wine reviews of the shared sample as chunks (one per row, like ingest's CSV mode). */
export function wineChunks(n: number): WineChunk[] {
  const file = path.join(datasets, 'wine-reviews', 'winemag-data-130k-v2.sample.csv');
  const rows = parse(readFileSync(file, 'utf8'), { columns: true, to: n }) as Record<string, string>[];
  return rows.map((r) => ({
    chunk_id: `wine-${r.id}`, doc_id: `winemag#${r.id}`,
    text: `${r.title}. ${r.variety} from ${r.province}, ${r.country}. ${r.description}`,
    metadata: JSON.stringify({ country: r.country, variety: r.variety, points: Number(r.points) }),
  }));
}

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

/**
 * BM25 split the way the embed stage writes it: the document side carries saturated term
 * frequency tf*(k1+1)/(tf + k1*(1-b+b*dl/avgdl)), the query side the IDF ln(1+(N-df+.5)/(df+.5)),
 * so a dot product is the BM25 score.
 */
export function bm25(docs: string[], k1 = 1.2, b = 0.75) {
  const vocab = new Map<string, number>();
  const tokens = docs.map(tokenize);
  const df = new Map<number, number>();
  for (const toks of tokens) {
    for (const t of new Set(toks)) {
      if (!vocab.has(t)) vocab.set(t, vocab.size);
      const id = vocab.get(t)!;
      df.set(id, (df.get(id) ?? 0) + 1);
    }
  }
  const avgdl = tokens.reduce((s, t) => s + t.length, 0) / docs.length;
  const docVectors = tokens.map((toks) => {
    const tf = new Map<number, number>();
    for (const t of toks) tf.set(vocab.get(t)!, (tf.get(vocab.get(t)!) ?? 0) + 1);
    const ids = [...tf.keys()].sort((x, y) => x - y);
    return {
      indices: Int32Array.from(ids),
      values: Float32Array.from(ids, (id) => (tf.get(id)! * (k1 + 1)) / (tf.get(id)! + k1 * (1 - b + (b * toks.length) / avgdl))),
    };
  });
  const query = (text: string) => {
    const ids = [...new Set(tokenize(text).filter((t) => vocab.has(t)).map((t) => vocab.get(t)!))].sort((x, y) => x - y);
    return {
      indices: Int32Array.from(ids),
      values: Float32Array.from(ids, (id) => Math.log(1 + (docs.length - df.get(id)! + 0.5) / (df.get(id)! + 0.5))),
    };
  };
  return { docVectors, query };
}

/**
 * A stand-in sentence embedding with real structure: the sum of a fixed pseudo-random vector per
 * token (seeded by the token), so texts sharing words are close. No model needed.
 */
export function hashedEmbedding(text: string, dim = 48): Float32Array {
  const v = new Float32Array(dim);
  for (const t of tokenize(text)) {
    let h = 2166136261;
    for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 16777619);
    const rnd = seededRandom(h);
    for (let d = 0; d < dim; d++) v[d] += rnd() - 0.5;
  }
  return v;
}

export function chunksTable(chunks: WineChunk[]): Table {
  return tableFromRows(Chunks, chunks.map((c, i) => ({
    ...c, source: 'datasets/wine.csv', start_index: 0, chunk_index: i, page: null,
  })));
}

export function denseTable(ids: string[], vectors: Float32Array[], role: 'query' | 'document'): Table {
  return tableFromRows(DenseVectors, ids.map((id, i) => ({ id, vector: vectors[i] })), { 'ragrpo.role': role, 'ragrpo.model': 'hashed-test' });
}

export function sparseTable(ids: string[], vectors: { indices: Int32Array; values: Float32Array }[], role: 'query' | 'document'): Table {
  return tableFromRows(SparseVectors, ids.map((id, i) => ({ id, indices: vectors[i].indices, values: vectors[i].values })), { 'ragrpo.role': role });
}

/** Cosine of two vectors in float64. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** Sparse dot product by merging the two sorted index lists. */
export function sparseDot(a: { indices: Int32Array; values: Float32Array }, b: { indices: Int32Array; values: Float32Array }): number {
  const vb = new Map<number, number>();
  b.indices.forEach((id, i) => vb.set(id, b.values[i]));
  let s = 0;
  a.indices.forEach((id, i) => { if (vb.has(id)) s += a.values[i] * vb.get(id)!; });
  return s;
}
