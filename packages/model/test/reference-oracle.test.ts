// The PyTorch oracle (tools/reference/llama_reference.py) that oracle.test.ts trusts, checked here against an
// independent naive float64 forward on tiny models from the tools/tiny-llm CLI.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../src/loading/model-config.ts';
import { readModelFolder } from '../src/loading/model-folder.ts';
import { readSafetensors, writeShardedSafetensors, type SafeTensor } from '../src/loading/safetensors.ts';
import { tempDir, TINY_ARCHS, tinyModelFolder } from './tiny-models.ts';
import { findTorchPython, referenceLogits, REFERENCE_SCRIPT } from './torch-oracle.ts';

const TOKENIZER_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'];
// A larger init makes attention sharp, so RoPE, masking and GQA head mapping all move the logits.
const ORACLE_MODEL = { seed: 11, initStd: 0.15 };

// The PyTorch oracle, checked against an independent naive float64 forward written here.

function naiveInvFreq(c: ModelConfig): number[] {
  const half = c.headDim / 2;
  const inv: number[] = [];
  for (let i = 0; i < half; i++) {
    let f = 1 / c.ropeTheta ** ((2 * i) / c.headDim);
    const s = c.ropeScaling;
    if (s) {
      // Llama 3.1: keep high frequencies, divide low ones by factor, interpolate in between
      const wavelen = (2 * Math.PI) / f;
      const lowWave = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
      const highWave = s.originalMaxPositionEmbeddings / s.highFreqFactor;
      if (wavelen > lowWave) f = f / s.factor;
      else if (wavelen >= highWave) {
        const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        f = (1 - smooth) * (f / s.factor) + smooth * f;
      }
    }
    inv.push(f);
  }
  return inv;
}

/** Straightforward per-position loops, float64 throughout. Returns logits [T][V]. */
function naiveForward(c: ModelConfig, W: Map<string, SafeTensor>, ids: number[]): number[][] {
  const w = (n: string): Float32Array => W.get(n)!.data as Float32Array;
  const has = (n: string): boolean => W.has(n);
  const matvec = (name: string, x: number[], rows: number, bias?: string): number[] => {
    const m = w(name);
    const cols = x.length;
    const b = bias && has(bias) ? w(bias) : null;
    const y = new Array<number>(rows).fill(0);
    for (let r = 0; r < rows; r++) {
      let s = b ? b[r]! : 0;
      for (let k = 0; k < cols; k++) s += m[r * cols + k]! * x[k]!;
      y[r] = s;
    }
    return y;
  };
  const rms = (x: number[], name: string): number[] => {
    const g = w(name);
    const ms = x.reduce((s, v) => s + v * v, 0) / x.length;
    const r = 1 / Math.sqrt(ms + c.rmsNormEps);
    return x.map((v, i) => g[i]! * v * r);
  };
  const H = c.hiddenSize, hd = c.headDim, T = ids.length;
  const inv = naiveInvFreq(c);
  const rope = (vec: number[], heads: number, t: number): number[] => {
    const out = vec.slice();
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < hd / 2; i++) {
        const a = vec[h * hd + i]!, b = vec[h * hd + i + hd / 2]!;
        const cos = Math.cos(t * inv[i]!), sin = Math.sin(t * inv[i]!);
        out[h * hd + i] = a * cos - b * sin;
        out[h * hd + i + hd / 2] = b * cos + a * sin;
      }
    }
    return out;
  };
  const emb = w('model.embed_tokens.weight');
  let x = ids.map((id) => Array.from(emb.subarray(id * H, (id + 1) * H)));
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const qs: number[][] = [], ks: number[][] = [], vs: number[][] = [];
    for (let t = 0; t < T; t++) {
      const h = rms(x[t]!, p + 'input_layernorm.weight');
      qs.push(rope(matvec(p + 'self_attn.q_proj.weight', h, c.numHeads * hd, p + 'self_attn.q_proj.bias'), c.numHeads, t));
      ks.push(rope(matvec(p + 'self_attn.k_proj.weight', h, c.numKvHeads * hd, p + 'self_attn.k_proj.bias'), c.numKvHeads, t));
      vs.push(matvec(p + 'self_attn.v_proj.weight', h, c.numKvHeads * hd, p + 'self_attn.v_proj.bias'));
    }
    const next: number[][] = [];
    for (let t = 0; t < T; t++) {
      const o = new Array<number>(c.numHeads * hd).fill(0);
      for (let n = 0; n < c.numHeads; n++) {
        const kv = Math.floor(n / (c.numHeads / c.numKvHeads));
        const js: number[] = [];
        for (let j = 0; j <= t; j++) if (c.slidingWindow === null || t - j < c.slidingWindow) js.push(j);
        const sc = js.map((j) => {
          let s = 0;
          for (let i = 0; i < hd; i++) s += qs[t]![n * hd + i]! * ks[j]![kv * hd + i]!;
          return s / Math.sqrt(hd);
        });
        const mx = Math.max(...sc);
        const e = sc.map((s) => Math.exp(s - mx));
        const z = e.reduce((a, b) => a + b, 0);
        js.forEach((j, idx) => {
          for (let i = 0; i < hd; i++) o[n * hd + i]! += (e[idx]! / z) * vs[j]![kv * hd + i]!;
        });
      }
      const attnOut = matvec(p + 'self_attn.o_proj.weight', o, H, p + 'self_attn.o_proj.bias');
      const x1 = x[t]!.map((v, i) => v + attnOut[i]!);
      const h2 = rms(x1, p + 'post_attention_layernorm.weight');
      const g = matvec(p + 'mlp.gate_proj.weight', h2, c.intermediateSize, p + 'mlp.gate_proj.bias');
      const u = matvec(p + 'mlp.up_proj.weight', h2, c.intermediateSize, p + 'mlp.up_proj.bias');
      const act = g.map((gv, i) => (gv / (1 + Math.exp(-gv))) * u[i]!);
      const down = matvec(p + 'mlp.down_proj.weight', act, H, p + 'mlp.down_proj.bias');
      next.push(x1.map((v, i) => v + down[i]!));
    }
    x = next;
  }
  const head = c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  return x.map((xt) => matvec(head, rms(xt, 'model.norm.weight'), c.vocabSize));
}

function maxAbsDiff(ref: Float32Array, offset: number, row: number[]): number {
  let d = 0;
  for (let i = 0; i < row.length; i++) d = Math.max(d, Math.abs(ref[offset + i]! - row[i]!));
  return d;
}

function seededIds(seed: number, rows: number, len: number, vocab: number): number[][] {
  let s = seed;
  const next = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s % vocab;
  };
  return Array.from({ length: rows }, () => Array.from({ length: len }, next));
}

const torchPython = findTorchPython();
if (!torchPython) {
  console.warn(`reference-oracle.test: no python3 with torch found; skipping the PyTorch oracle tests (${REFERENCE_SCRIPT}). Install python3-torch.`);
}
const oracleIt = torchPython ? it : it.skip;

describe('PyTorch oracle (tools/reference/llama_reference.py)', () => {
  for (const arch of TINY_ARCHS) {
    oracleIt(`${arch}: logits match an independent float64 forward`, async () => {
      const out = tinyModelFolder(arch, ORACLE_MODEL);
      const m = await readModelFolder(out, { tokenizer: false });
      const len = arch === 'llama3' ? 48 : 9;
      const ids = seededIds(7, 2, len, m.config.vocabSize);
      const ref = referenceLogits(out, ids);
      const V = m.config.vocabSize;
      expect(ref.shape).toEqual([2, len, V]);
      let worst = 0;
      let scale = 0;
      for (let b = 0; b < 2; b++) {
        const naive = naiveForward(m.config, m.weights, ids[b]!);
        naive.forEach((row, t) => {
          worst = Math.max(worst, maxAbsDiff(ref.data, (b * len + t) * V, row));
          scale = Math.max(scale, ...row.map(Math.abs));
        });
      }
      expect(scale).toBeGreaterThan(0.1); // logits are not degenerate
      expect(worst).toBeLessThan(1e-5 * Math.max(1, scale));
      if (arch === 'llama3') {
        // the llama3 frequency scaling must matter at this length, or the check above proves nothing about it
        const unscaled = naiveForward({ ...m.config, ropeScaling: null }, m.weights, ids[0]!);
        const last = (len - 1) * V;
        expect(maxAbsDiff(ref.data, last, unscaled[len - 1]!)).toBeGreaterThan(1e-3);
      }
    });
  }

  oracleIt('--log-softmax gives logits minus logsumexp, and sharded checkpoints read the same', async () => {
    // the smollm weights re-written as several shards + model.safetensors.index.json
    const out = tinyModelFolder('smollm', ORACLE_MODEL);
    const sharded = tempDir('oracle-smollm-sharded');
    for (const f of TOKENIZER_FILES) fs.copyFileSync(path.join(out, f), path.join(sharded, f));
    writeShardedSafetensors(sharded, readSafetensors(path.join(out, 'model.safetensors')), { maxShardBytes: 40_000 });
    expect(fs.readdirSync(sharded).filter((f) => f.endsWith('.safetensors')).length).toBeGreaterThan(2);
    const m = await readModelFolder(out, { tokenizer: false });
    const ids = [5, 6, 7, 8];
    const lp = referenceLogits(sharded, [ids], { logSoftmax: true });
    const V = lp.shape[2];
    naiveForward(m.config, m.weights, ids).forEach((row, t) => {
      const mx = Math.max(...row);
      const lse = mx + Math.log(row.reduce((s, x) => s + Math.exp(x - mx), 0));
      expect(maxAbsDiff(lp.data, t * V, row.map((x) => x - lse))).toBeLessThan(1e-5);
    });
  });

  oracleIt('mistral sliding window: a token outside every layer\'s window cannot move the last logits', () => {
    // window 4, 2 layers: position 7 sees 4..7 directly and 1..7 through layer 1, never position 0
    const out = tinyModelFolder('mistral', { seed: 2, slidingWindow: 4, initStd: 0.15 });
    const base = [10, 20, 30, 40, 50, 60, 70, 80];
    const ref = referenceLogits(out, [base, [11, ...base.slice(1)], [10, 21, ...base.slice(2)]]);
    const V = ref.shape[2];
    const last = (b: number): number[] => Array.from(ref.data.subarray((b * 8 + 7) * V, (b * 8 + 8) * V));
    expect(maxAbsDiff(ref.data, (1 * 8 + 7) * V, last(0))).toBe(0);
    expect(maxAbsDiff(ref.data, (2 * 8 + 7) * V, last(0))).toBeGreaterThan(1e-4);
  });

  oracleIt('refuses bad input with a message', () => {
    const out = tinyModelFolder('smollm', ORACLE_MODEL);
    const bad = spawnSync(torchPython!, [REFERENCE_SCRIPT, '--model', out], { input: '[[1, 2], [3]]', encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/all sequences must have the same length/);
    const oob = spawnSync(torchPython!, [REFERENCE_SCRIPT, '--model', out], { input: '[99999]', encoding: 'utf8' });
    expect(oob.status).toBe(2);
    expect(oob.stderr).toMatch(/token id out of range \[0, 512\)/);
  });
});
