// LoRA settings and parameter naming, shared by the graph builder and adapter IO. Names follow PEFT so that
// adapters round-trip with Python: `model.layers.0.self_attn.q_proj.lora_A.weight` inside the graph, with
// the `base_model.model.` prefix added in adapter_model.safetensors.

export const LINEAR_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LinearModule = (typeof LINEAR_MODULES)[number];

export interface LoraConfig {
  /** rank */
  r: number;
  /** lora_alpha; the update is scaled by alpha / r (alpha / sqrt(r) with useRslora). */
  alpha: number;
  /** dropout probability on the adapter input (training only) */
  dropout: number;
  targetModules: LinearModule[];
  useRslora: boolean;
}

export const DEFAULT_LORA: LoraConfig = {
  r: 16,
  alpha: 32,
  dropout: 0,
  targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
  useRslora: false,
};

/** User-facing LoRA settings: every field optional; target modules may be any strings (checked) or "all-linear". */
export type LoraConfigInput = Omit<Partial<LoraConfig>, 'targetModules'> & { targetModules?: readonly string[] | 'all-linear' };

/** Fills defaults and refuses settings the engine cannot honour, naming the field. */
export function resolveLoraConfig(partial: LoraConfigInput = {}): LoraConfig {
  const targets = partial.targetModules === 'all-linear' ? [...LINEAR_MODULES] : [...(partial.targetModules ?? DEFAULT_LORA.targetModules)];
  for (const t of targets) {
    if (!(LINEAR_MODULES as readonly string[]).includes(t)) {
      throw new Error(`LoRA target module "${t}" is not supported; choose from ${LINEAR_MODULES.join(', ')} or "all-linear"`);
    }
  }
  const cfg: LoraConfig = {
    r: partial.r ?? DEFAULT_LORA.r,
    alpha: partial.alpha ?? DEFAULT_LORA.alpha,
    dropout: partial.dropout ?? DEFAULT_LORA.dropout,
    targetModules: targets as LinearModule[],
    useRslora: partial.useRslora ?? false,
  };
  if (!Number.isInteger(cfg.r) || cfg.r < 1) throw new Error(`LoRA r must be a positive integer, got ${cfg.r}`);
  if (!(cfg.alpha > 0)) throw new Error(`LoRA alpha must be positive, got ${cfg.alpha}`);
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new Error(`LoRA dropout must be in [0, 1), got ${cfg.dropout}`);
  if (targets.length === 0) throw new Error('LoRA targetModules is empty; name at least one of ' + LINEAR_MODULES.join(', '));
  return cfg;
}

export function loraScale(cfg: LoraConfig): number {
  return cfg.useRslora ? cfg.alpha / Math.sqrt(cfg.r) : cfg.alpha / cfg.r;
}

export function layerModulePrefix(layer: number, module: LinearModule): string {
  const block = module === 'gate_proj' || module === 'up_proj' || module === 'down_proj' ? 'mlp' : 'self_attn';
  return `model.layers.${layer}.${block}.${module}`;
}

export function loraParamName(modulePrefix: string, which: 'A' | 'B'): string {
  return `${modulePrefix}.lora_${which}.weight`;
}
