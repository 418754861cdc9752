import { createHash } from 'node:crypto';

/**
 * A file name for an id: letters, digits, '.', '_' and '-' kept, anything else '_'. When that
 * changes the id (or it is long) a short hash of the id is appended, so 'q/1' and 'q_1' cannot collide.
 */
export function safeFileName(id: string): string {
  const cleaned = id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_').slice(0, 80);
  if (cleaned === id && cleaned.length > 0) return cleaned;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 8);
  return `${cleaned || 'id'}-${hash}`;
}
