import type { IndexConfig } from '@ragrpo/config';
import { EmbeddedStore } from './embedded-store.ts';
import { QdrantStore } from './qdrant-store.ts';
import type { QdrantCollectionSettings } from './qdrant-collection.ts';
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
  const q = config.qdrant;
  return QdrantStore.connect({
    url: choice.url, collection: choice.collection, apiKey: choice.apiKey,
    timeoutMs: q.timeout_ms, batchSize: q.batch_size, retries: q.retries, onRetry,
    collectionSettings: qdrantCollectionSettings(config),
  });
}

/** index.qdrant's distributed-mode options, the ones that are set (unset: Qdrant's defaults). */
export function qdrantCollectionSettings(config: IndexConfig): QdrantCollectionSettings {
  const q = config.qdrant;
  const all: QdrantCollectionSettings = {
    shard_number: q.shard_number, replication_factor: q.replication_factor, write_consistency_factor: q.write_consistency_factor,
    on_disk: q.on_disk, on_disk_payload: q.on_disk_payload, shard_key: q.shard_key,
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as QdrantCollectionSettings;
}
