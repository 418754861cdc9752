import path from 'node:path';
import { env, pipeline, type FeatureExtractionPipeline, type Tensor } from '@huggingface/transformers';
import { locateModel, type DenseDtype } from './model-folder.ts';
import { modelPreset, type Pooling } from './presets.ts';

export type EmbedRole = 'query' | 'document';

export interface DenseOptions {
  /** Hub id or local folder in the Hugging Face layout. */
  model: string;
  /** Unset: the model family's pooling (see presets.ts). */
  pooling?: Pooling;
  normalize?: boolean;
  /** Unset: the model family's prefixes. */
  queryPrefix?: string;
  documentPrefix?: string;
  batchSize?: number;
  dtype?: DenseDtype;
  /** Let transformers.js download from the hub; off means nothing is fetched. */
  allowRemote?: boolean;
  /** Folder for hub ids (`<modelsDir>/<hub id>`), relative to root. Default 'models'. */
  modelsDir?: string;
  /** Base for relative paths. Default: the working directory. */
  root?: string;
}

export interface DenseEmbedder {
  /** The model as configured (hub id or folder), recorded in the vector tables. */
  model: string;
  pooling: Pooling;
  normalize: boolean;
  batchSize: number;
  prefix(role: EmbedRole): string;
  /**
   * Embeds texts in batches of batchSize; returns one flat row-major buffer and the dimension.
   * onBatch is told how many texts each finished batch held (for progress).
   */
  embed(texts: readonly string[], role: EmbedRole, onBatch?: (n: number) => void): Promise<{ flat: Float32Array; dim: number }>;
  dispose(): Promise<void>;
}

/**
 * Loads a feature-extraction pipeline. transformers.js' settings are process-wide, so they are set
 * here on every load: remote loading off unless allowed, local hub ids under modelsDir, and the
 * download cache (when allowed) in the same folder so a later offline run finds the files.
 */
export async function loadDenseEmbedder(o: DenseOptions): Promise<DenseEmbedder> {
  const root = o.root ?? process.cwd();
  const dtype = o.dtype ?? 'fp32';
  const allowRemote = o.allowRemote ?? false;
  const modelsDir = path.resolve(root, o.modelsDir ?? 'models');
  const where = locateModel({ model: o.model, dtype, allowRemote, modelsDir, root });
  env.allowLocalModels = true;
  env.allowRemoteModels = allowRemote;
  env.localModelPath = modelsDir + path.sep;
  env.useFSCache = allowRemote;
  if (allowRemote) env.cacheDir = modelsDir;

  const preset = modelPreset(o.model);
  const pooling = o.pooling ?? preset.pooling;
  const normalize = o.normalize ?? true;
  const batchSize = o.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`embed.dense.batch_size must be a positive integer, got ${batchSize}`);
  const prefixes = { query: o.queryPrefix ?? preset.queryPrefix, document: o.documentPrefix ?? preset.documentPrefix };

  let extractor: FeatureExtractionPipeline;
  try {
    extractor = await pipeline('feature-extraction', where.modelId, {
      dtype, device: 'cpu', local_files_only: !allowRemote,
    }) as FeatureExtractionPipeline;
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    throw new Error(`embed.dense.model '${o.model}': cannot load ${where.folder ?? where.modelId} with transformers.js (${msg})`);
  }

  const runBatch = async (texts: string[]): Promise<{ data: Float32Array; dim: number }> => {
    const out = await extractor(texts, { pooling, normalize }) as Tensor;
    if (out.dims.length !== 2) {
      throw new Error(`embed.dense: pooling '${pooling}' gave token-level output of shape [${out.dims.join(', ')}]; set embed.dense.pooling to mean or cls`);
    }
    const data = out.data instanceof Float32Array ? out.data : Float32Array.from(out.data as ArrayLike<number>);
    return { data, dim: out.dims[1] };
  };

  return {
    model: o.model, pooling, normalize, batchSize,
    prefix: (role) => prefixes[role],
    async embed(texts, role, onBatch) {
      const pre = prefixes[role];
      if (texts.length === 0) {
        const probe = await runBatch([pre]);
        return { flat: new Float32Array(0), dim: probe.dim };
      }
      let flat = new Float32Array(0);
      let dim = 0;
      for (let start = 0; start < texts.length; start += batchSize) {
        const batch = texts.slice(start, start + batchSize).map((t) => pre + t);
        const r = await runBatch(batch);
        if (start === 0) { dim = r.dim; flat = new Float32Array(texts.length * dim); }
        flat.set(r.data, start * dim);
        onBatch?.(batch.length);
      }
      return { flat, dim };
    },
    async dispose() { await extractor.dispose(); },
  };
}
