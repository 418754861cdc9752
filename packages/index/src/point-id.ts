import { createHash } from 'node:crypto';

/**
 * A Qdrant point id for a chunk id. Qdrant ids must be unsigned integers or UUIDs, and chunk ids
 * are free-form strings, so the id is the first 128 bits of SHA-256(chunk_id) written as a UUID
 * (version nibble 8 = "custom", RFC 4122 variant bits). Same chunk id, same point, on every run.
 */
export function pointIdFor(chunkId: string): string {
  const b = createHash('sha256').update(chunkId, 'utf8').digest().subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x80;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
