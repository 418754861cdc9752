// The training graph: decoder forward on a packed batch, per-token log-probs of the completion tokens, the SFT
// or GRPO loss, and reverse-mode gradients for the trained tensors only (frozen weights are initializers the
// autodiff never differentiates).
import { GraphBuilder, type Tensor } from '@ragrpo/graph';
import { grpoLossGraph, type GrpoLossOptions } from './grpo-loss.ts';
import { modelBytes } from '../graphs/graphs.ts';
import { buildDecoderGraph, dropoutMaskName } from '../graphs/llama-graph.ts';
import { loraModulePrefixes, moduleDims } from '../lora/lora.ts';
import type { Policy } from '../policy/policy.ts';
import { Prng } from '../prng.ts';
import { sftLossGraph } from './sft-loss.ts';
import { tokenLogprobs } from '../graphs/token-logprobs.ts';

export type TrainObjective = { kind: 'sft' } | ({ kind: 'grpo'; detachOld: boolean } & GrpoLossOptions);

export interface TrainGraphSpec {
  batch: number;
  promptLen: number;
  completionLen: number;
  temperature: number;
  objective: TrainObjective;
  recompute: boolean;
  /** feed LoRA dropout masks */
  dropout: boolean;
}

export const gradName = (param: string) => `grad/${param}`;

export function trainGraphKey(s: TrainGraphSpec): string {
  const o = s.objective;
  const obj =
    o.kind === 'sft'
      ? 'sft'
      : `grpo:${o.epsilonLow}:${o.epsilonHigh}:${o.beta}:${o.detachOld}:${o.surrogate ?? 'clip'}:${o.importanceSamplingLevel ?? 'token'}:` +
        `${o.delta ?? '-'}:${o.entropyMask ? 1 : 0}:${o.sapoTemperaturePos ?? '-'}:${o.sapoTemperatureNeg ?? '-'}`;
  return `train|${s.batch}|${s.promptLen}|${s.completionLen}|${s.temperature}|${obj}|${s.recompute}|${s.dropout}`;
}

export function buildTrainGraph(policy: Policy, s: TrainGraphSpec): Uint8Array {
  const g = new GraphBuilder({ name: 'train' });
  const params = policy.paramSource(g);
  const T = s.promptLen + s.completionLen;
  const dec = buildDecoderGraph(g, policy.config, params, {
    batch: s.batch,
    seqLen: T,
    lora: policy.loraInGraph(false, s.dropout),
    logitsRange: [s.promptLen - 1, T - 1],
  });
  // GRPO also reports the entropy of every completion position (TRL's `entropy` metric); it has no gradient.
  const { logprobs, entropy } = tokenLogprobs(g, dec, { temperature: s.temperature, entropy: s.objective.kind === 'grpo' });
  let loss: Tensor;
  if (s.objective.kind === 'sft') {
    loss = sftLossGraph(g, logprobs).loss;
  } else {
    const o = s.objective;
    const gl = grpoLossGraph(g, logprobs, o, o.detachOld ? g.stopGradient(logprobs) : undefined);
    loss = gl.loss;
    g.output('ratio', gl.ratio);
    g.output('clipped', gl.clipped);
    if (gl.kl) g.output('kl', gl.kl);
    if (entropy) g.output('entropy', entropy);
  }
  const names = [...policy.params.keys()];
  const wrt = names.map((n) => params.tensor(n));
  const grads = g.grad(loss, wrt, { recompute: s.recompute });
  g.output('loss', loss);
  g.output('logprobs', logprobs);
  names.forEach((n, i) => g.output(gradName(n), grads[i]));
  return modelBytes(g);
}

/** Seeded dropout keep-masks (1 = keep, drawn with probability 1 - p) for every LoRA module input, bool [B, T, in]. */
export function dropoutMasks(policy: Policy, batch: number, seqLen: number, rng: Prng): Record<string, { data: Uint8Array; dims: number[] }> {
  const lora = policy.lora;
  if (!lora || lora.config.dropout <= 0) return {};
  const p = lora.config.dropout;
  const out: Record<string, { data: Uint8Array; dims: number[] }> = {};
  for (const { prefix, module } of loraModulePrefixes(policy.config, lora.config)) {
    const [inF] = moduleDims(policy.config, module);
    const data = new Uint8Array(batch * seqLen * inF);
    for (let i = 0; i < data.length; i++) data[i] = rng.next() < p ? 0 : 1;
    out[dropoutMaskName(prefix)] = { data, dims: [batch, seqLen, inF] };
  }
  return out;
}
