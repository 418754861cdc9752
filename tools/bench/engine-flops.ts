// Analytic MatMul FLOP count of one forward+backward training step of a Llama-family decoder, mirroring the
// graph @ragrpo/model builds (llama-graph.ts): forward 2*m*n*k per MatMul; the backward adds 2*m*n*k for each
// operand of that MatMul whose gradient the autodiff emits (an operand on a path from a trained tensor).
// Elementwise ops, norms and softmax are not counted: GFLOP/s figures are MatMul throughput.
import type { ModelConfig } from '@ragrpo/model';

export interface StepShape {
  batch: number;
  seqLen: number;
  /** 'full': every weight trained; 'lora': only adapters on `loraTargets` (rank `loraRank`). */
  mode: 'full' | 'lora';
  loraRank?: number;
  loraTargets?: readonly string[];
}

export interface FlopCount {
  forward: number;
  backward: number;
  total: number;
}

export function trainStepFlops(cfg: ModelConfig, s: StepShape): FlopCount {
  const full = s.mode === 'full';
  const targets = new Set(full ? [] : (s.loraTargets ?? []));
  const r = s.loraRank ?? 0;
  const M = s.batch * s.seqLen;
  const { hiddenSize: d, numHeads: H, numKvHeads: KV, headDim: hd, intermediateSize: I, vocabSize: V } = cfg;
  let forward = 0;
  let backward = 0;
  const mm = (count: number, m: number, n: number, k: number, gradA: boolean, gradB: boolean) => {
    const f = 2 * m * n * k * count;
    forward += f;
    backward += f * (Number(gradA) + Number(gradB));
  };
  /** x [M, in] @ W [in, out] (+ LoRA); returns whether the output carries a gradient. */
  const linear = (xGrad: boolean, inF: number, outF: number, module: string): boolean => {
    mm(1, M, outF, inF, xGrad, full);
    if (!targets.has(module)) return xGrad || full;
    mm(1, M, r, inF, xGrad, true); // x @ A^T
    mm(1, M, outF, r, true, true); // (x A^T) @ B^T
    return true;
  };

  let hGrad = full; // the embedding is trained only in full fine-tuning
  for (let l = 0; l < cfg.numLayers; l++) {
    const x = hGrad || full; // RMSNorm weight is trained in full mode
    const q = linear(x, d, H * hd, 'q_proj');
    const k = linear(x, d, KV * hd, 'k_proj');
    const v = linear(x, d, KV * hd, 'v_proj');
    mm(s.batch * H, s.seqLen, s.seqLen, hd, q, k); // scores = q k^T
    mm(s.batch * H, s.seqLen, hd, s.seqLen, q || k, v); // ctx = probs v
    const o = linear(q || k || v, H * hd, d, 'o_proj');
    hGrad = hGrad || o;
    const y = hGrad || full;
    const gate = linear(y, d, I, 'gate_proj');
    const up = linear(y, d, I, 'up_proj');
    const down = linear(gate || up, I, d, 'down_proj');
    hGrad = hGrad || down;
  }
  mm(1, M, V, d, hGrad || full, full); // LM head on every position
  return { forward, backward, total: forward + backward };
}
