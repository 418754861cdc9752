import { createHash } from 'node:crypto';

/**
 * The rank stage's file name for a question id (packages/rank/src/file-names.ts, repeated here
 * because a stage may not import another stage): letters, digits, '.', '_' and '-' kept, anything
 * else '_', and a short hash of the id appended when that changed it (or it was long). evaluate
 * uses it to find a question's heatmap in rank's heatmaps/ folder and for the page's anchors.
 */
export function safeFileName(id: string): string {
  const cleaned = id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_').slice(0, 80);
  if (cleaned === id && cleaned.length > 0) return cleaned;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 8);
  return `${cleaned || 'id'}-${hash}`;
}
