/**
 * Deterministic random weights for a scratch model: every tensor of the config's checkpoint layout gets its own
 * seeded stream (mulberry32 seeded from seed + tensor name, Box-Muller normals), so a tensor's values do not depend
 * on which other tensors exist. Linear/embedding weights ~ N(0, initStd) like HF's initializer_range; RMSNorm
 * weights 1 + N(0, normNoise) and biases N(0, biasStd) so that neither is a no-op in tests.
 */
import { mulberry32, normalSampler, streamSeed } from '@ragrpo/config';
import { expectedTensorShapes, type ModelConfig } from '../loading/model-config.ts';

export interface WeightInit {
  seed: number;
  initStd: number;
  normNoise: number;
  biasStd: number;
}

export function initWeights(config: ModelConfig, init: WeightInit): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, shape] of expectedTensorShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const normal = normalSampler(mulberry32(streamSeed(init.seed, name)));
    const data = new Float32Array(n);
    const isNorm = name.endsWith('layernorm.weight') || name === 'model.norm.weight';
    const isBias = name.endsWith('.bias');
    for (let i = 0; i < n; i++) {
      const z = normal();
      data[i] = isNorm ? 1 + init.normNoise * z : (isBias ? init.biasStd : init.initStd) * z;
    }
    out.set(name, { shape, data });
  }
  return out;
}
