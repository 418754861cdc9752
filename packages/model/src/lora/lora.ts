// LoRA adapters: creation (PEFT's init: A ~ kaiming-uniform(a=sqrt 5) = U(-1/sqrt(in), 1/sqrt(in)), B = 0),
// PEFT-compatible save/load (`adapter_model.safetensors` + `adapter_config.json`), and merging into the base.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelConfig } from '../loading/model-config.ts';
import {
  LINEAR_MODULES,
  layerModulePrefix,
  loraParamName,
  loraScale,
  resolveLoraConfig,
  type LinearModule,
  type LoraConfig,
  type LoraConfigInput,
} from './lora-config.ts';
import { Prng } from '../prng.ts';
import { readSafetensors, writeSafetensors } from '../loading/safetensors.ts';
import type { WeightMap, WeightTensor } from '../loading/weights.ts';

export interface LoraAdapter {
  config: LoraConfig;
  /** Keyed by graph name, e.g. `model.layers.0.self_attn.q_proj.lora_A.weight` (A: [r, in], B: [out, r]). */
  weights: Map<string, WeightTensor>;
}

const PEFT_PREFIX = 'base_model.model.';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';

/** [in, out] features of a linear module. */
export function moduleDims(cfg: ModelConfig, module: LinearModule): [number, number] {
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKvHeads * cfg.headDim;
  switch (module) {
    case 'q_proj':
      return [cfg.hiddenSize, q];
    case 'k_proj':
    case 'v_proj':
      return [cfg.hiddenSize, kv];
    case 'o_proj':
      return [q, cfg.hiddenSize];
    case 'gate_proj':
    case 'up_proj':
      return [cfg.hiddenSize, cfg.intermediateSize];
    case 'down_proj':
      return [cfg.intermediateSize, cfg.hiddenSize];
  }
}

/** Every adapted module prefix, layer-major, in a fixed order. */
export function loraModulePrefixes(cfg: ModelConfig, lora: LoraConfig): { prefix: string; module: LinearModule }[] {
  const out: { prefix: string; module: LinearModule }[] = [];
  for (let l = 0; l < cfg.numLayers; l++) {
    for (const m of LINEAR_MODULES) if (lora.targetModules.includes(m)) out.push({ prefix: layerModulePrefix(l, m), module: m });
  }
  return out;
}

/** A fresh adapter: A uniform in +-1/sqrt(in) from `seed`, B zero, so the adapted model starts equal to the base. */
export function createLora(cfg: ModelConfig, partial: LoraConfigInput = {}, seed = 0): LoraAdapter {
  const config = resolveLoraConfig(partial);
  const rng = new Prng(seed);
  const weights = new Map<string, WeightTensor>();
  for (const { prefix, module } of loraModulePrefixes(cfg, config)) {
    const [inF, outF] = moduleDims(cfg, module);
    const a = new Float32Array(config.r * inF);
    const bound = 1 / Math.sqrt(inF);
    for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-bound, bound);
    weights.set(loraParamName(prefix, 'A'), { shape: [config.r, inF], data: a });
    weights.set(loraParamName(prefix, 'B'), { shape: [outF, config.r], data: new Float32Array(outF * config.r) });
  }
  return { config, weights };
}

/** Writes `adapter_model.safetensors` and `adapter_config.json` in PEFT's layout. */
export function saveLora(dir: string, adapter: LoraAdapter, opts: { baseModel?: string } = {}): void {
  fs.mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, { shape: number[]; data: Float32Array; dtype: 'F32' }>();
  for (const [name, w] of adapter.weights) tensors.set(PEFT_PREFIX + name, { shape: w.shape, data: w.data, dtype: 'F32' });
  writeSafetensors(path.join(dir, ADAPTER_WEIGHTS_FILE), tensors, { format: 'pt' });
  const c = adapter.config;
  const json = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: opts.baseModel ?? null,
    r: c.r,
    lora_alpha: c.alpha,
    lora_dropout: c.dropout,
    target_modules: c.targetModules,
    use_rslora: c.useRslora,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    layers_to_transform: null,
  };
  fs.writeFileSync(path.join(dir, ADAPTER_CONFIG_FILE), JSON.stringify(json, null, 2) + '\n');
}

/** Reads a PEFT adapter folder and checks every tensor against the model's shapes. */
export function loadLora(dir: string, cfg: ModelConfig): LoraAdapter {
  const cfgFile = path.join(dir, ADAPTER_CONFIG_FILE);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${cfgFile}: cannot read the adapter config (${(e as Error).message})`);
  }
  if (raw.peft_type !== undefined && raw.peft_type !== 'LORA') throw new Error(`${cfgFile}: peft_type ${String(raw.peft_type)} is not supported; only LORA adapters load`);
  if (raw.bias !== undefined && raw.bias !== 'none') throw new Error(`${cfgFile}: bias "${String(raw.bias)}" is not supported; only bias "none"`);
  if (raw.fan_in_fan_out === true) throw new Error(`${cfgFile}: fan_in_fan_out=true is not supported (Llama-family layers are nn.Linear)`);
  for (const key of ['modules_to_save', 'layers_to_transform', 'rank_pattern', 'alpha_pattern'] as const) {
    const v = raw[key];
    if (v !== undefined && v !== null && !(typeof v === 'object' && Object.keys(v as object).length === 0)) {
      throw new Error(`${cfgFile}: ${key} is not supported; remove it or retrain without it`);
    }
  }
  let config: LoraConfig;
  try {
    config = resolveLoraConfig({
      r: raw.r as number,
      alpha: raw.lora_alpha as number,
      dropout: (raw.lora_dropout as number | undefined) ?? 0,
      targetModules: raw.target_modules as string[] | 'all-linear',
      useRslora: (raw.use_rslora as boolean | undefined) ?? false,
    });
  } catch (e) {
    throw new Error(`${cfgFile}: ${(e as Error).message}`);
  }
  const file = path.join(dir, ADAPTER_WEIGHTS_FILE);
  const tensors = readSafetensors(file);
  const weights = new Map<string, WeightTensor>();
  for (const { prefix, module } of loraModulePrefixes(cfg, config)) {
    const [inF, outF] = moduleDims(cfg, module);
    for (const [which, shape] of [
      ['A', [config.r, inF]],
      ['B', [outF, config.r]],
    ] as const) {
      const name = loraParamName(prefix, which);
      const t = tensors.get(PEFT_PREFIX + name);
      if (!t) throw new Error(`${file}: tensor ${PEFT_PREFIX + name} is missing (adapter_config.json targets ${config.targetModules.join(', ')})`);
      if (t.shape.length !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1]) {
        throw new Error(`${file}: tensor ${PEFT_PREFIX + name} has shape [${t.shape.join(', ')}], the model needs [${shape.join(', ')}]`);
      }
      if (!(t.data instanceof Float32Array)) throw new Error(`${file}: tensor ${PEFT_PREFIX + name} has dtype ${t.dtype}; expected F32, F16 or BF16`);
      weights.set(name, { shape: [...shape], data: t.data });
      tensors.delete(PEFT_PREFIX + name);
    }
  }
  if (tensors.size > 0) {
    throw new Error(`${file}: unexpected tensors not described by adapter_config.json: ${[...tensors.keys()].slice(0, 3).join(', ')}`);
  }
  return { config, weights };
}

/** Base weights with W += scale * B @ A folded in for every adapted module (a new map; the base is untouched). */
export function mergeLora(cfg: ModelConfig, base: WeightMap, adapter: LoraAdapter): Map<string, WeightTensor> {
  const out = new Map(base);
  const scale = loraScale(adapter.config);
  const r = adapter.config.r;
  for (const { prefix, module } of loraModulePrefixes(cfg, adapter.config)) {
    const [inF, outF] = moduleDims(cfg, module);
    const wName = `${prefix}.weight`;
    const w = base.get(wName);
    if (!w) throw new Error(`cannot merge LoRA: base weight ${wName} is missing`);
    const a = adapter.weights.get(loraParamName(prefix, 'A'))!.data;
    const b = adapter.weights.get(loraParamName(prefix, 'B'))!.data;
    const merged = new Float32Array(w.data);
    // Accumulate B@A in float64 per element so merging does not add rounding beyond the final store.
    const row = new Float64Array(inF);
    for (let o = 0; o < outF; o++) {
      row.fill(0);
      for (let k = 0; k < r; k++) {
        const bk = b[o * r + k];
        if (bk === 0) continue;
        const aRow = k * inF;
        for (let i = 0; i < inF; i++) row[i] += bk * a[aRow + i];
      }
      for (let i = 0; i < inF; i++) merged[o * inF + i] += scale * row[i];
    }
    out.set(wName, { shape: w.shape, data: merged });
  }
  return out;
}
