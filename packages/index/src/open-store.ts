import type { IndexConfig } from '@ragrpo/config';
import { EmbeddedStore } from './embedded-store.ts';
import { QdrantStore } from './qdrant-store.ts';
import type { VectorStore } from './vector-store.ts';

export type StoreChoice =
  | { kind: 'embedded' }
  | { kind: 'qdrant'; url: string; collection: string; apiKey?: string };

/**
 * Which store a run uses: 'embedded' always; 'qdrant' needs a URL (index.qdrant.url, else the
 * QDRANT_URL environment variable); 'auto' (the default) uses Qdrant exactly when a URL is set.
 */
export function chooseStore(config: IndexConfig, pipelineName: string, env: NodeJS.ProcessEnv = process.env): StoreChoice {
  const url = config.qdrant.url ?? (env.QDRANT_URL || undefined);
  if (config.store === 'embedded' || (config.store === 'auto' && !url)) return { kind: 'embedded' };
  if (!url) throw new Error("index.store is 'qdrant' but no Qdrant URL is set: set index.qdrant.url or QDRANT_URL, or use index.store: embedded");
  const apiKey = env[config.qdrant.api_key_env] || undefined;
  return { kind: 'qdrant', url, collection: config.qdrant.collection ?? `ragrpo-${pipelineName}`, apiKey };
}

/** Opens the chosen store; the embedded one lives at `embeddedDir` (persisted by the caller). */
export async function openStore(
  choice: StoreChoice, config: IndexConfig, embeddedDir: string,
  onRetry?: (what: string, attempt: number, delayMs: number, err: unknown) => void,
): Promise<VectorStore> {
  if (choice.kind === 'embedded') return new EmbeddedStore(embeddedDir);
  return QdrantStore.connect({
    url: choice.url, collection: choice.collection, apiKey: choice.apiKey,
    timeoutMs: config.qdrant.timeout_ms, batchSize: config.qdrant.batch_size, retries: config.qdrant.retries, onRetry,
  });
}
