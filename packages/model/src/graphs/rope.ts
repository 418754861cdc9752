// Rotary position embedding tables, computed once in float64 on the CPU and baked into graphs as frozen
// tables that are gathered by position id. Precomputing keeps the graph free of Sin/Cos ops (which the
// autodiff engine would otherwise need rules for) and lets left-padded prompts use arbitrary position ids.
import type { ModelConfig } from '../loading/model-config.ts';

/** Inverse frequencies (length headDim/2), including Llama 3 RoPE scaling exactly as transformers computes them. */
export function ropeInverseFrequencies(cfg: ModelConfig): Float64Array {
  const half = cfg.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(cfg.ropeTheta, (2 * i) / cfg.headDim);
  const s = cfg.ropeScaling;
  if (!s) return inv;
  // 'llama3': long wavelengths are divided by `factor`, short ones kept, the band between interpolated smoothly.
  const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  for (let i = 0; i < half; i++) {
    const f = inv[i];
    const wavelen = (2 * Math.PI) / f;
    const scaled = wavelen > lowWavelen ? f / s.factor : f;
    const isMedium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
    if (isMedium) {
      const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      inv[i] = ((1 - smooth) * scaled) / s.factor + smooth * scaled;
    } else {
      inv[i] = scaled;
    }
  }
  return inv;
}

/** cos/sin tables of shape [maxPositions, headDim]: row p holds angle p * invFreq[i] twice (both halves of the head dim). */
export function ropeTables(cfg: ModelConfig, maxPositions = cfg.maxPositionEmbeddings): { cos: Float32Array; sin: Float32Array } {
  const inv = ropeInverseFrequencies(cfg);
  const half = inv.length;
  const hd = 2 * half;
  const cos = new Float32Array(maxPositions * hd);
  const sin = new Float32Array(maxPositions * hd);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      // transformers computes the angle in float32 (inv_freq float32 times position); mirror that rounding.
      const angle = Math.fround(p * Math.fround(inv[i]));
      cos[p * hd + i] = cos[p * hd + half + i] = Math.cos(angle);
      sin[p * hd + i] = sin[p * hd + half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}
