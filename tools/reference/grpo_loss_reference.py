#!/usr/bin/env python3
"""Independent oracle for the GRPO loss (test oracle only, never a runtime dependency).

Re-types the math of TRL 1.x's GRPOTrainer._compute_loss (and get_high_entropy_mask,
entropy_from_logits, the num_items_in_batch normaliser) in plain float64 torch, on a tiny
Llama-family model with a LoRA adapter, and writes what the TypeScript trainer must reproduce:

  packages/model/test/fixtures/grpo-tiny/{config.json, model.safetensors}   the tiny model
  packages/model/test/fixtures/grpo-loss.json                               adapter, batch, cases

Each case is one loss_type x beta x importance_sampling_level x delta x top_entropy_quantile
(plus gradient-accumulation and num_items_in_batch variants) with TRL's loss, TRL's logged
metrics (kl, entropy, clip_ratio/*, cispo_clip_ratio) and the gradient of the loss with
respect to every LoRA tensor, summed over the gradient-accumulation micro-batches.

The forward pass is tools/reference/llama_reference.py's (imported from this folder), with each
LoRA target weight replaced by W + (alpha / r) * B @ A so torch differentiates through A and B.
Per-token log-probs and entropies are of softmax(logits / temperature), as TRL computes them.
The batch's old log-probs are the current ones shifted by fixed offsets chosen so that no
ratio lies within 0.03 (in log space) of a clipping boundary, and its entropies are spread so
the entropy quantile never falls between two nearly equal values: float32 (the engine) and
float64 (here) then take the same branches everywhere.

Usage (Debian python3-torch):
  /usr/bin/python3 tools/reference/grpo_loss_reference.py [--out-dir packages/model/test/fixtures]
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import llama_reference  # noqa: E402  (the forward pass; it reads `torch` from its module globals)

llama_reference.torch = torch
torch.set_default_dtype(torch.float64)

CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 16,
    "intermediate_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "vocab_size": 40,
    "max_position_embeddings": 64,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "rope_scaling": None,
    "tie_word_embeddings": False,
    "attention_bias": False,
    "mlp_bias": False,
    "hidden_act": "silu",
    "bos_token_id": 1,
    "eos_token_id": 2,
    "torch_dtype": "float32",
}
LORA = {"r": 2, "alpha": 4, "targetModules": ["q_proj", "v_proj", "up_proj"]}
TEMPERATURE = 0.9
EPSILON = 0.2
EPSILON_HIGH = 0.28
CISPO_EPSILON_HIGH = 1.3  # cispo's epsilon_high caps the ratio itself
DELTA = 1.5
MAX_COMPLETION_LENGTH = 8
SAPO_TEMPERATURE_POS = 1.0
SAPO_TEMPERATURE_NEG = 1.05
# (prompt, completion, advantage, truncated); mask_truncated_completions is on in every case
BATCH = [
    ([1, 5, 9], [12, 7, 30, 2], 1.4, False),
    ([1, 22], [3, 3, 18, 25, 2], -0.5, False),
    ([1, 4, 17, 33, 8], [9, 14, 2], 0.9, False),
    ([1, 11], [6, 27, 19, 13, 35, 21, 16], -1.3, True),
    ([1, 38, 2, 15], [20, 10, 24, 31, 2], -0.6, False),
    ([1, 26, 29], [37, 5, 36, 8, 34, 2], 0.8, False),
]
LOG_OFFSETS = [0.05, -0.05, 0.33, -0.33, 0.7, -0.7]  # log(ratio) per token, drawn from these


def f32(a):
    return np.asarray(a, dtype=np.float32)


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name], dtype="<f4")
        b = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def make_weights(rng):
    c = CONFIG
    d, f, v, hd = c["hidden_size"], c["intermediate_size"], c["vocab_size"], c["hidden_size"] // c["num_attention_heads"]
    kv = c["num_key_value_heads"] * hd
    w = {
        "model.embed_tokens.weight": rng.normal(0, 1.0, (v, d)),
        "model.norm.weight": 1 + rng.normal(0, 0.1, d),
        "lm_head.weight": rng.normal(0, 0.3, (v, d)),
    }
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = 1 + rng.normal(0, 0.1, d)
        w[p + "post_attention_layernorm.weight"] = 1 + rng.normal(0, 0.1, d)
        w[p + "self_attn.q_proj.weight"] = rng.normal(0, 0.3, (d, d))
        w[p + "self_attn.k_proj.weight"] = rng.normal(0, 0.3, (kv, d))
        w[p + "self_attn.v_proj.weight"] = rng.normal(0, 0.3, (kv, d))
        w[p + "self_attn.o_proj.weight"] = rng.normal(0, 0.3, (d, d))
        w[p + "mlp.gate_proj.weight"] = rng.normal(0, 0.3, (f, d))
        w[p + "mlp.up_proj.weight"] = rng.normal(0, 0.3, (f, d))
        w[p + "mlp.down_proj.weight"] = rng.normal(0, 0.3, (d, f))
    return {k: f32(a) for k, a in w.items()}


def make_lora(rng, weights):
    """Engine names (model.layers.L.self_attn.q_proj.lora_A.weight), A [r, in], B [out, r], both non-zero."""
    out = {}
    for l in range(CONFIG["num_hidden_layers"]):
        for m in LORA["targetModules"]:
            block = "mlp" if m in ("gate_proj", "up_proj", "down_proj") else "self_attn"
            prefix = f"model.layers.{l}.{block}.{m}"
            o, i = weights[prefix + ".weight"].shape
            out[prefix + ".lora_A.weight"] = f32(rng.uniform(-0.4, 0.4, (LORA["r"], i)))
            out[prefix + ".lora_B.weight"] = f32(rng.normal(0, 0.3, (o, LORA["r"])))
    return out


def token_stats(cfg, base, lora):
    """Per row: log p(completion token) and entropy of softmax(logits / T), float64, differentiable in lora."""
    scale = LORA["alpha"] / LORA["r"]
    W = {k: torch.from_numpy(v.astype(np.float64)) for k, v in base.items()}
    for name, t in lora.items():
        if name.endswith(".lora_A.weight"):
            prefix = name[: -len(".lora_A.weight")]
            W[prefix + ".weight"] = W[prefix + ".weight"] + scale * lora[prefix + ".lora_B.weight"] @ t
    logps, ents = [], []
    for prompt, completion, _, _ in BATCH:
        ids = torch.tensor([prompt + completion])
        logits = llama_reference.forward(cfg, W, ids)[0]  # [T, V]
        logits = logits[len(prompt) - 1 : len(prompt) - 1 + len(completion)] / TEMPERATURE
        lsm = torch.log_softmax(logits, dim=-1)
        logps.append(lsm.gather(-1, torch.tensor(completion)[:, None])[:, 0])
        ents.append(-(torch.exp(lsm) * lsm).sum(-1))  # trl.trainer.utils.entropy_from_logits
    return logps, ents


def padded(rows, width):
    out = torch.zeros(len(rows), width)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def get_high_entropy_mask(entropies, mask, threshold):
    """TRL GRPOTrainer.get_high_entropy_mask on one process."""
    local = entropies[mask.bool()]
    if local.numel() == 0:
        return torch.zeros_like(entropies, dtype=torch.bool)
    entropy_threshold = torch.quantile(local, threshold)
    masked_entropies = entropies * mask.float()
    entropy_mask = masked_entropies >= entropy_threshold
    return entropy_mask & mask.bool()


def compute_loss(c, per_token_logps, entropies, old, ref, advantages, completion_mask, num_items_in_batch, ga_steps):
    """TRL 1.x GRPOTrainer._compute_loss (one process, no vLLM, no tools), re-typed. Returns loss and metrics."""
    loss_type, beta = c["loss_type"], c["beta"]
    eps_low, eps_high = EPSILON, c["epsilon_high"]
    mask = completion_mask
    entropy_mask = get_high_entropy_mask(entropies, mask, 1 - c["top_entropy_quantile"]) if c["top_entropy_quantile"] < 1.0 else None
    advantages = advantages.unsqueeze(1)
    log_ratio = per_token_logps - old
    if c["importance_sampling_level"] == "token":
        log_importance_weights = log_ratio
    else:
        log_importance_weights = ((log_ratio * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).unsqueeze(-1)
    coef_1 = torch.exp(log_importance_weights)
    if beta != 0.0:
        per_token_kl = torch.exp(ref - per_token_logps) - (ref - per_token_logps) - 1
    if loss_type == "cispo":
        clamped_ratios = torch.clamp(coef_1, max=eps_high).detach()
        per_token_loss = -clamped_ratios * advantages * per_token_logps
    elif loss_type in ("grpo", "bnpo", "dr_grpo", "dapo"):
        coef_2 = torch.clamp(coef_1, 1 - eps_low, 1 + eps_high)
        if c["delta"] is not None:
            coef_1 = torch.clamp(coef_1, max=c["delta"])
        per_token_loss = -torch.min(coef_1 * advantages, coef_2 * advantages)
    elif loss_type == "sapo":
        per_token_loss = torch.empty_like(coef_1)
        positive = advantages.repeat([1, coef_1.shape[1]]) > 0

        def sapo(x, temperature):
            return torch.sigmoid(temperature * (x - 1)) * 4 / temperature

        per_token_loss[positive] = sapo(coef_1[positive], SAPO_TEMPERATURE_POS)
        per_token_loss[~positive] = sapo(coef_1[~positive], SAPO_TEMPERATURE_NEG)
        per_token_loss = -per_token_loss * advantages
    if entropy_mask is not None:
        per_token_loss = per_token_loss * entropy_mask
    if beta != 0.0:
        per_token_loss = per_token_loss + beta * per_token_kl
    if loss_type in ("grpo", "sapo"):
        loss = ((per_token_loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean() / ga_steps
    elif loss_type == "bnpo":
        loss = (per_token_loss * mask).sum() / mask.sum().clamp(min=1.0) / ga_steps
    elif loss_type == "dr_grpo":
        loss = (per_token_loss * mask).sum() / (per_token_loss.size(0) * MAX_COMPLETION_LENGTH) / ga_steps
    else:  # cispo, dapo
        loss = (per_token_loss * mask).sum() / num_items_in_batch

    count = mask.sum().clamp(min=1.0)

    def masked_batch_mean(x):
        return x.mean() if x.shape[1] == 1 else (x * mask).sum() / count

    m = {"entropy": masked_batch_mean(entropies).item()}
    if beta != 0.0:
        m["kl"] = masked_batch_mean(per_token_kl).item()
    if loss_type in ("grpo", "bnpo", "dr_grpo", "dapo"):
        low = (coef_1 < 1 - eps_low) & (advantages < 0)
        high = (coef_1 > 1 + eps_high) & (advantages > 0)
        m["clip_ratio/low_mean"] = m["clip_ratio/low_min"] = masked_batch_mean(low.double()).item()
        m["clip_ratio/high_mean"] = m["clip_ratio/high_max"] = masked_batch_mean(high.double()).item()
        m["clip_ratio/region_mean"] = masked_batch_mean((low | high).double()).item()
    elif loss_type == "cispo":
        m["cispo_clip_ratio"] = masked_batch_mean(((coef_1 > eps_high) & (advantages > 0)).double()).item()
    return loss, m


def run_case(c, cfg, base, lora_np, old_rows, ref_rows):
    lora = {k: torch.tensor(v.astype(np.float64), requires_grad=True) for k, v in lora_np.items()}
    logps_rows, ent_rows = token_stats(cfg, base, lora)
    C = max(len(b[1]) for b in BATCH)
    logps = padded(logps_rows, C)
    ents = padded([e.detach() for e in ent_rows], C)
    old = padded([torch.tensor(o) for o in old_rows], C)
    ref = padded([torch.tensor(r) for r in ref_rows], C)
    adv = torch.tensor([float(np.float32(b[2])) for b in BATCH])
    lengths = torch.tensor([len(b[1]) for b in BATCH])
    full_mask = (torch.arange(C)[None, :] < lengths[:, None]).double()
    # num_items_in_batch is counted before truncated completions are masked
    num_items = c.get("generation_batch_tokens") or int(full_mask.sum().item())
    truncated = torch.tensor([b[3] for b in BATCH])
    mask = full_mask * (~truncated).double()[:, None]
    mb = c["micro_batch_size"]
    ga = len(BATCH) // mb
    total = 0.0
    metrics = []
    for s in range(0, len(BATCH), mb):
        sl = slice(s, s + mb)
        loss, m = compute_loss(c, logps[sl], ents[sl], old[sl], ref[sl], adv[sl], mask[sl], num_items, ga)
        total = total + loss
        metrics.append(m)
    total.backward()
    # TRL logs each micro-batch's metrics and averages them at logging time
    avg = {k: sum(m[k] for m in metrics) / len(metrics) for k in metrics[0]}
    grads = {k: [float(f"{x:.9g}") for x in t.grad.reshape(-1).tolist()] for k, t in lora.items()}
    return {"loss": float(total.item()), "metrics": avg, "grads": grads}


def boundary_margin(log_ratios):
    bounds = [math.log(1 - EPSILON), math.log(1 + EPSILON_HIGH), math.log(DELTA), math.log(CISPO_EPSILON_HIGH)]
    return min(abs(x - b) for x in log_ratios for b in bounds)


def choose_old(rng, logps_rows):
    """
    Offsets log(ratio) per token so that every token ratio and every sequence ratio stays >= 0.03 (log) from a
    clipping boundary, and sequence-level ratios engage each branch: a sequence with A < 0 above delta (the cap
    matters) and one below 1 - epsilon (low clip), one with A > 0 above 1 + epsilon_high (high clip).
    """
    adv = [b[2] for b in BATCH]
    live = [not b[3] for b in BATCH]
    for _ in range(100000):
        offs = [rng.choice(LOG_OFFSETS, size=len(r)) for r in logps_rows]
        seq = [float(np.mean(o)) for o in offs]
        if boundary_margin([x for o in offs for x in o] + seq) < 0.03:
            continue
        neg = [s for s, a, l in zip(seq, adv, live) if l and a < 0]
        pos = [s for s, a, l in zip(seq, adv, live) if l and a > 0]
        if max(neg) > math.log(DELTA) and min(neg) < math.log(1 - EPSILON) and max(pos) > math.log(1 + EPSILON_HIGH):
            return offs
    raise SystemExit("grpo_loss_reference: no offsets met the ratio constraints")


def min_gap(values):
    s = sorted(values)
    return min(b - a for a, b in zip(s, s[1:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.join(HERE, "..", "..", "packages", "model", "test", "fixtures"))
    args = ap.parse_args()
    out_dir = os.path.abspath(args.out_dir)
    model_dir = os.path.join(out_dir, "grpo-tiny")
    os.makedirs(model_dir, exist_ok=True)

    rng = np.random.default_rng(20250607)
    base = make_weights(rng)
    lora = make_lora(rng, base)
    with open(os.path.join(model_dir, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(model_dir, "model.safetensors"), base)
    cfg = llama_reference.Config(CONFIG)

    with torch.no_grad():
        logps_rows, ent_rows = token_stats(cfg, base, {k: torch.from_numpy(v.astype(np.float64)) for k, v in lora.items()})
    # the engine's float32 entropies must sort like these: no two weighted entropies within 2e-5 of each other
    weighted = [float(x) for (b, e) in zip(BATCH, ent_rows) if not b[3] for x in e]
    if min_gap(weighted) < 2e-5:
        raise SystemExit(f"grpo_loss_reference: two entropies within {min_gap(weighted):.2e}; change the seed")
    offs = choose_old(rng, logps_rows)
    old_rows = [f32(lp.numpy() - o).astype(np.float64) for lp, o in zip(logps_rows, offs)]
    ref_rows = [f32(lp.numpy() + rng.uniform(-0.6, 0.6, len(lp))).astype(np.float64) for lp in logps_rows]

    cases = []
    B = len(BATCH)
    for loss_type in ("grpo", "bnpo", "dr_grpo", "dapo", "cispo", "sapo"):
        for beta in (0.0, 0.04):
            for level in ("token", "sequence"):
                for delta in (None, DELTA) if loss_type in ("grpo", "bnpo", "dr_grpo", "dapo") else (None,):
                    for q in (1.0, 0.5):
                        cases.append({"loss_type": loss_type, "beta": beta, "importance_sampling_level": level, "delta": delta, "top_entropy_quantile": q, "micro_batch_size": B})
        # gradient accumulation: micro-batches of 2 (TRL's per_device_train_batch_size 2, 3 accumulation steps)
        cases.append({"loss_type": loss_type, "beta": 0.04, "importance_sampling_level": "token", "delta": None, "top_entropy_quantile": 0.5, "micro_batch_size": 2})
    cases.append({"loss_type": "bnpo", "beta": 0.04, "importance_sampling_level": "sequence", "delta": DELTA, "top_entropy_quantile": 1.0, "micro_batch_size": 2})
    # one generation batch spread over several optimizer steps: num_items_in_batch > this step's tokens
    total_tokens = sum(len(b[1]) for b in BATCH)
    for mb in (B, 2):
        cases.append({"loss_type": "dapo", "beta": 0.0, "importance_sampling_level": "token", "delta": None, "top_entropy_quantile": 1.0, "micro_batch_size": mb, "generation_batch_tokens": 3 * total_tokens})
    for c in cases:
        c["epsilon_high"] = CISPO_EPSILON_HIGH if c["loss_type"] == "cispo" else EPSILON_HIGH
        c.update(run_case(c, cfg, base, lora, old_rows, ref_rows))

    doc = {
        "generator": "tools/reference/grpo_loss_reference.py (TRL 1.x GRPOTrainer._compute_loss re-typed in float64 torch)",
        "model": "grpo-tiny",
        "lora": {**LORA, "tensors": {k: {"shape": list(v.shape), "data": [float(x) for x in v.reshape(-1)]} for k, v in lora.items()}},
        "temperature": TEMPERATURE,
        "epsilon": EPSILON,
        "max_completion_length": MAX_COMPLETION_LENGTH,
        "sapo_temperature_pos": SAPO_TEMPERATURE_POS,
        "sapo_temperature_neg": SAPO_TEMPERATURE_NEG,
        "mask_truncated_completions": True,
        "batch": [
            {"promptIds": p, "completionIds": cpl, "advantage": float(np.float32(a)), "truncated": t, "oldLogprobs": [float(x) for x in o], "refLogprobs": [float(x) for x in r]}
            for (p, cpl, a, t), o, r in zip(BATCH, old_rows, ref_rows)
        ],
        "cases": cases,
    }
    path = os.path.join(out_dir, "grpo-loss.json")
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(json.dumps({"cases": len(cases), "out": path, "model": model_dir}))


if __name__ == "__main__":
    main()
