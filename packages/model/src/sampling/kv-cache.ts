// The decode loop's key/value cache: per layer one [N, KV, S, hd] buffer for the N = P * G rows being decoded,
// S slots each. Prompt p's prefill keys/values ([P, KV, Tp, hd]) are copied into the first Tp slots of its G
// rows; each decode step then writes the new token's key/value ([N, KV, 1, hd]) into one more slot. The buffers
// are fed to the decode graph as they are (wrapped, not copied).
import type { ModelConfig } from '../loading/model-config.ts';
import type { PrefillResult } from '../policy/policy.ts';

export class KvCache {
  readonly keys: Float32Array[];
  readonly values: Float32Array[];
  private readonly kvHeads: number;
  private readonly headDim: number;
  /** floats per row of one layer: KV * S * hd */
  private readonly rowStride: number;

  /** An empty cache of `capacity` slots for `rows` rows. */
  constructor(
    cfg: ModelConfig,
    readonly rows: number,
    readonly capacity: number,
  ) {
    this.kvHeads = cfg.numKvHeads;
    this.headDim = cfg.headDim;
    this.rowStride = this.kvHeads * capacity * this.headDim;
    this.keys = Array.from({ length: cfg.numLayers }, () => new Float32Array(rows * this.rowStride));
    this.values = Array.from({ length: cfg.numLayers }, () => new Float32Array(rows * this.rowStride));
  }

  /** The prompts' cache from one prefill, each prompt copied into its G consecutive rows (row = prompt * G + member). */
  static fromPrefill(cfg: ModelConfig, pre: PrefillResult, prompts: number, groupSize: number, capacity: number): KvCache {
    const cache = new KvCache(cfg, prompts * groupSize, capacity);
    const { kvHeads: KV, headDim: hd } = cache;
    const Tp = pre.promptLen;
    for (let l = 0; l < cfg.numLayers; l++) {
      for (let p = 0; p < prompts; p++) {
        for (let h = 0; h < KV; h++) {
          const src = (p * KV + h) * Tp * hd;
          for (let m = 0; m < groupSize; m++) {
            const dst = (p * groupSize + m) * cache.rowStride + h * capacity * hd;
            cache.keys[l].set(pre.keys[l].subarray(src, src + Tp * hd), dst);
            cache.values[l].set(pre.values[l].subarray(src, src + Tp * hd), dst);
          }
        }
      }
    }
    return cache;
  }

  /** Stores one decode step's new keys/values (per layer [N, KV, 1, hd]) in `slot` of every row. */
  write(step: { keys: Float32Array[]; values: Float32Array[] }, slot: number): void {
    const { kvHeads: KV, headDim: hd } = this;
    for (let l = 0; l < this.keys.length; l++) {
      for (let r = 0; r < this.rows; r++) {
        for (let h = 0; h < KV; h++) {
          const src = (r * KV + h) * hd;
          const dst = r * this.rowStride + (h * this.capacity + slot) * hd;
          this.keys[l].set(step.keys[l].subarray(src, src + hd), dst);
          this.values[l].set(step.values[l].subarray(src, src + hd), dst);
        }
      }
    }
  }
}
