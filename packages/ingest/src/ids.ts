import { createHash } from 'node:crypto';

// Ids are content-addressed on where a thing came from (not when it was read), so re-running
// ingest on the same inputs gives the same ids and downstream caches and gold labels stay valid.

export function shortHash(...parts: (string | number)[]): string {
  const h = createHash('sha256');
  parts.forEach((p, i) => { if (i) h.update('\u0000'); h.update(String(p)); });
  return h.digest('hex').slice(0, 16);
}

/**
 * The chunk id of one CSV row: `source` as written in the pipeline file and the row key (the
 * id_column value, or the 0-based record position when there is no id column).
 * Dataset generators call this to label gold chunks that match what ingest writes.
 */
export function csvRowChunkId(source: string, rowKey: string | number, piece?: number): string {
  return `csv-${piece === undefined ? shortHash(source, 'row', rowKey) : shortHash(source, 'row', rowKey, 'piece', piece)}`;
}

/** The chunk id of the n-th split piece of a text or PDF document. */
export function documentChunkId(source: string, docId: string, chunkIndex: number): string {
  return `doc-${shortHash(source, docId, chunkIndex)}`;
}

/**
 * A number in [0, 1) from a seed and a key: sha256 -> the top 52 bits. Uniform enough for a
 * train/test split and stable across platforms, unlike a seeded PRNG walked in file order.
 */
export function unitHash(seed: number, key: string): number {
  const hex = createHash('sha256').update(`${seed}\u0000${key}`).digest('hex');
  return parseInt(hex.slice(0, 13), 16) / 2 ** 52;
}
