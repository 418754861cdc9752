// Training checkpoints: `<root>/checkpoint-<step>/` holding the trained tensors (a PEFT adapter folder for LoRA,
// `model.safetensors` for full fine-tuning), the optimizer state (`optimizer.safetensors` + JSON) and
// `trainer_state.json`. Each checkpoint is written to a temporary folder and renamed into place, so a crash
// mid-write never leaves a half checkpoint that resume would pick up.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadLora, saveLora } from '../lora/lora.ts';
import { readSafetensors, writeSafetensors } from '../loading/safetensors.ts';
import type { Trainer } from './trainer.ts';

export const TRAINER_STATE_FILE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const FULL_WEIGHTS_FILE = 'model.safetensors';
const PREFIX = 'checkpoint-';

interface TrainerStateJson {
  format: 'ragrpo-checkpoint-1';
  step: number;
  /** Trainer.tokensSeen (absent in checkpoints written before it existed: 0) */
  tokensSeen?: number;
  trainable: 'lora' | 'full';
  architecture: string;
  /** optimizer state with typed arrays replaced by {"$tensor": key} into optimizer.safetensors */
  optimizer: unknown;
}

/** The newest `checkpoint-<step>` folder under root, or null. */
export function latestCheckpoint(root: string): string | null {
  if (!fs.existsSync(root)) return null;
  const steps = fs
    .readdirSync(root)
    .filter((d) => d.startsWith(PREFIX) && /^\d+$/.test(d.slice(PREFIX.length)) && fs.existsSync(path.join(root, d, TRAINER_STATE_FILE)))
    .map((d) => Number(d.slice(PREFIX.length)))
    .sort((a, b) => a - b);
  return steps.length ? path.join(root, `${PREFIX}${steps[steps.length - 1]}`) : null;
}

export function saveCheckpoint(root: string, trainer: Trainer, opts: { keep: number }): string {
  const policy = trainer.policy;
  const final = path.join(root, `${PREFIX}${trainer.step}`);
  const tmp = `${final}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  if (policy.trainable === 'lora') {
    saveLora(tmp, policy.lora!);
  } else {
    const tensors = new Map([...policy.params].map(([k, w]) => [k, { shape: w.shape, data: w.data, dtype: 'F32' as const }]));
    writeSafetensors(path.join(tmp, FULL_WEIGHTS_FILE), tensors, { format: 'pt' });
  }
  const tensors = new Map<string, { shape: number[]; data: Float32Array | Float64Array }>();
  const optimizer = encodeState(trainer.optimizer.state(), 'opt', tensors);
  writeSafetensors(path.join(tmp, OPTIMIZER_FILE), tensors);
  const state: TrainerStateJson = {
    format: 'ragrpo-checkpoint-1',
    step: trainer.step,
    tokensSeen: trainer.tokensSeen,
    trainable: policy.trainable as 'lora' | 'full',
    architecture: policy.config.architecture,
    optimizer,
  };
  fs.writeFileSync(path.join(tmp, TRAINER_STATE_FILE), JSON.stringify(state, null, 2) + '\n');
  fs.rmSync(final, { recursive: true, force: true });
  fs.renameSync(tmp, final);
  // Prune older checkpoints only after the new one is complete.
  const all = fs
    .readdirSync(root)
    .filter((d) => d.startsWith(PREFIX) && /^\d+$/.test(d.slice(PREFIX.length)))
    .map((d) => Number(d.slice(PREFIX.length)))
    .sort((a, b) => a - b);
  for (const s of all.slice(0, Math.max(0, all.length - Math.max(1, opts.keep)))) {
    fs.rmSync(path.join(root, `${PREFIX}${s}`), { recursive: true, force: true });
  }
  return final;
}

export function loadCheckpoint(dir: string, trainer: Trainer): void {
  const policy = trainer.policy;
  const stateFile = path.join(dir, TRAINER_STATE_FILE);
  let state: TrainerStateJson;
  try {
    state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as TrainerStateJson;
  } catch (e) {
    throw new Error(`${stateFile}: cannot read the checkpoint state (${(e as Error).message}); is ${dir} a checkpoint folder?`);
  }
  if (state.format !== 'ragrpo-checkpoint-1') throw new Error(`${stateFile}: unknown checkpoint format ${JSON.stringify(state.format)}`);
  if (state.trainable !== policy.trainable) {
    throw new Error(`${stateFile}: checkpoint trains '${state.trainable}' but the policy trains '${policy.trainable}'`);
  }
  if (state.architecture !== policy.config.architecture) {
    throw new Error(`${stateFile}: checkpoint is for ${state.architecture}, the policy is ${policy.config.architecture}`);
  }
  const incoming =
    state.trainable === 'lora'
      ? loadLora(dir, policy.config).weights
      : new Map([...readSafetensors(path.join(dir, FULL_WEIGHTS_FILE))].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }]));
  for (const [name, w] of policy.params) {
    const src = incoming.get(name);
    if (!src || src.data.length !== w.data.length) {
      throw new Error(`${dir}: trained tensor ${name} is missing or has a different size in the checkpoint (was it saved with another LoRA config?)`);
    }
    // In place: sessions and the optimizer hold these very arrays.
    w.data.set(src.data);
  }
  const opt = readSafetensors(path.join(dir, OPTIMIZER_FILE));
  trainer.optimizer.load(decodeState(state.optimizer, opt) as never);
  trainer.step = state.step;
  trainer.tokensSeen = state.tokensSeen ?? 0;
}

type TensorSink = Map<string, { shape: number[]; data: Float32Array | Float64Array }>;

function encodeState(v: unknown, key: string, sink: TensorSink): unknown {
  if (v instanceof Float32Array || v instanceof Float64Array) {
    sink.set(key, { shape: [v.length], data: v });
    return { $tensor: key, dtype: v instanceof Float32Array ? 'f32' : 'f64' };
  }
  if (ArrayBuffer.isView(v)) throw new Error(`optimizer state ${key}: unsupported typed array`);
  if (Array.isArray(v)) return v.map((x, i) => encodeState(x, `${key}.${i}`, sink));
  if (v instanceof Map) return { $map: [...v].map(([k, x], i) => [k, encodeState(x, `${key}.${i}`, sink)]) };
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = encodeState(x, `${key}.${k}`, sink);
    return o;
  }
  return v;
}

function decodeState(v: unknown, tensors: Map<string, { data: unknown }>): unknown {
  if (Array.isArray(v)) return v.map((x) => decodeState(x, tensors));
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.$tensor === 'string') {
      const t = tensors.get(o.$tensor);
      if (!t) throw new Error(`optimizer state tensor ${o.$tensor} is missing from ${OPTIMIZER_FILE}`);
      const d = t.data as Float32Array | Float64Array;
      return o.dtype === 'f64' ? Float64Array.from(d) : Float32Array.from(d);
    }
    if (Array.isArray(o.$map)) return new Map((o.$map as [unknown, unknown][]).map(([k, x]) => [k, decodeState(x, tensors)]));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = decodeState(x, tensors);
    return out;
  }
  return v;
}
