#!/usr/bin/env python3
"""PyTorch oracle for the Llama-family forward pass (test oracle only, never a runtime dependency).

A plain-torch re-implementation of transformers' LlamaForCausalLM / Qwen2ForCausalLM /
MistralForCausalLM forward in float64: RMSNorm, RoPE (rotate-half layout, incl. rope_type llama3
frequency scaling), grouped-query attention with optional q/k/v and o biases, causal (and
sliding-window) masking, SwiGLU MLP, tied or separate LM head.

It reads config.json and model.safetensors (or the shards of model.safetensors.index.json) by
hand with struct + numpy, because the `safetensors` Python package is not installed here.

Usage:
  python3 tools/reference/llama_reference.py --model models/tiny-qwen2 [--input ids.json] \
      [--out logits.f32] [--log-softmax]

Input (stdin or --input): JSON token ids, one of
  [1, 2, 3]                       one sequence            -> batch 1
  [[1, 2, 3], [4, 5, 6]]          equal-length sequences  -> batch 2
  {"input_ids": [[...], ...]}
Positions are 0..T-1 for every row (no padding support: every row is attended in full).

Output: without --out, JSON on stdout {"shape": [B, T, V], "logits": [[[...]]]} (float64 values;
"logprobs" instead of "logits" with --log-softmax). With --out, the values as raw little-endian
float32 in row-major [B, T, V] order, and a one-line JSON summary {"shape": [...], "out": path} on stdout.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np

torch = None  # imported in main() after input validation: importing torch takes seconds

DTYPES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "BF16": None,  # decoded by hand below
    "I64": np.int64,
    "I32": np.int32,
    "I16": np.int16,
    "I8": np.int8,
    "U8": np.uint8,
    "BOOL": np.bool_,
}
ITEM = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def fail(msg):
    sys.stderr.write(f"llama_reference: {msg}\n")
    sys.exit(2)


def read_safetensors(path):
    """Returns {name: float64 numpy array} for every tensor in one .safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        fail(f"{path}: too short for a safetensors header")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        fail(f"{path}: header length {n} exceeds the file size")
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, (b, en) = e["dtype"], e["shape"], e["data_offsets"]
        if dtype not in DTYPES:
            fail(f"{path}: tensor {name}: unknown dtype {dtype}")
        count = int(np.prod(shape)) if shape else 1
        if en - b != count * ITEM[dtype] or base + en > len(raw):
            fail(f"{path}: tensor {name}: data_offsets [{b}, {en}] do not match shape {shape} of {dtype}")
        buf = raw[base + b : base + en]
        if dtype == "BF16":
            # bfloat16 is the upper half of a float32
            u16 = np.frombuffer(buf, dtype="<u2").astype(np.uint32)
            arr = (u16 << 16).view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=np.dtype(DTYPES[dtype]).newbyteorder("<"))
        out[name] = arr.astype(np.float64).reshape(shape)
    return out


def read_weights(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
        weights = {}
        for shard in sorted(set(weight_map.values())):
            weights.update(read_safetensors(os.path.join(folder, shard)))
        return weights
    single = os.path.join(folder, "model.safetensors")
    if not os.path.exists(single):
        fail(f"{folder}: no model.safetensors or model.safetensors.index.json")
    return read_safetensors(single)


class Config:
    def __init__(self, c):
        arch = (c.get("architectures") or [None])[0]
        supported = ("LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM")
        if arch not in supported:
            fail(f"architecture {arch} not supported; supported: {', '.join(supported)}")
        if c.get("hidden_act", "silu") != "silu":
            fail(f"hidden_act {c.get('hidden_act')} not supported (silu only)")
        self.arch = arch
        self.hidden = c["hidden_size"]
        self.layers = c["num_hidden_layers"]
        self.heads = c["num_attention_heads"]
        self.kv_heads = c.get("num_key_value_heads") or self.heads
        self.head_dim = c.get("head_dim") or self.hidden // self.heads
        self.eps = c.get("rms_norm_eps", 1e-6)
        rope_params = c.get("rope_parameters") or {}
        self.rope_theta = rope_params.get("rope_theta", c.get("rope_theta", 10000.0))
        self.rope_scaling = rope_params if rope_params.get("rope_type") not in (None, "default") else c.get("rope_scaling")
        self.tie = c.get("tie_word_embeddings", False)
        if arch == "Qwen2ForCausalLM":
            self.sliding_window = c.get("sliding_window") if c.get("use_sliding_window", False) else None
        elif arch == "MistralForCausalLM":
            self.sliding_window = c.get("sliding_window", 4096)
        else:
            self.sliding_window = None


def rope_inv_freq(cfg):
    """transformers' default inverse frequencies, then `_compute_llama3_parameters` when configured."""
    d = cfg.head_dim
    inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    rs = cfg.rope_scaling
    if not rs:
        return inv_freq
    kind = rs.get("rope_type", rs.get("type", "default"))
    if kind == "default":
        return inv_freq
    if kind != "llama3":
        fail(f"rope_type {kind} not supported (default, llama3)")
    factor = rs["factor"]
    low, high = rs["low_freq_factor"], rs["high_freq_factor"]
    old_ctx = rs["original_max_position_embeddings"]
    low_freq_wavelen = old_ctx / low
    high_freq_wavelen = old_ctx / high
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth = (old_ctx / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * inv_freq_llama / factor + smooth * inv_freq_llama
    is_medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium, smoothed, inv_freq_llama)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def linear(x, w, b=None):
    y = x @ w.T
    return y + b if b is not None else y


def forward(cfg, W, ids):
    """ids: LongTensor [B, T] -> logits float64 [B, T, V]."""
    B, T = ids.shape
    x = W["model.embed_tokens.weight"][ids]
    pos = torch.arange(T, dtype=torch.float64)
    freqs = torch.outer(pos, rope_inv_freq(cfg))
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]  # [1, 1, T, hd]
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    allowed = j <= i
    if cfg.sliding_window is not None:
        allowed = allowed & (i - j < cfg.sliding_window)
    mask = torch.zeros(T, T, dtype=torch.float64).masked_fill(~allowed, float("-inf"))
    groups = cfg.heads // cfg.kv_heads
    for l in range(cfg.layers):
        p = f"model.layers.{l}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], cfg.eps)
        q = linear(h, W[p + "self_attn.q_proj.weight"], W.get(p + "self_attn.q_proj.bias"))
        k = linear(h, W[p + "self_attn.k_proj.weight"], W.get(p + "self_attn.k_proj.bias"))
        v = linear(h, W[p + "self_attn.v_proj.weight"], W.get(p + "self_attn.v_proj.bias"))
        q = q.view(B, T, cfg.heads, cfg.head_dim).transpose(1, 2)
        k = k.view(B, T, cfg.kv_heads, cfg.head_dim).transpose(1, 2)
        v = v.view(B, T, cfg.kv_heads, cfg.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # query head n uses kv head n // groups (transformers' repeat_kv)
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(cfg.head_dim) + mask
        attn = torch.softmax(scores, dim=-1) @ v
        attn = attn.transpose(1, 2).reshape(B, T, cfg.heads * cfg.head_dim)
        x = x + linear(attn, W[p + "self_attn.o_proj.weight"], W.get(p + "self_attn.o_proj.bias"))
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], cfg.eps)
        gate = linear(h, W[p + "mlp.gate_proj.weight"], W.get(p + "mlp.gate_proj.bias"))
        up = linear(h, W[p + "mlp.up_proj.weight"], W.get(p + "mlp.up_proj.bias"))
        x = x + linear(torch.nn.functional.silu(gate) * up, W[p + "mlp.down_proj.weight"], W.get(p + "mlp.down_proj.bias"))
    x = rms_norm(x, W["model.norm.weight"], cfg.eps)
    head = W["model.embed_tokens.weight"] if cfg.tie else W["lm_head.weight"]
    return x @ head.T


def parse_ids(doc):
    if isinstance(doc, dict):
        if "input_ids" not in doc:
            fail('input JSON object needs an "input_ids" field')
        doc = doc["input_ids"]
    if isinstance(doc, list) and doc and all(isinstance(t, int) for t in doc):
        doc = [doc]
    if not isinstance(doc, list) or not doc or not all(isinstance(r, list) and r and all(isinstance(t, int) for t in r) for r in doc):
        fail("input must be a non-empty list of token ids or a list of such lists")
    if len({len(r) for r in doc}) != 1:
        fail("all sequences must have the same length (no padding support)")
    return np.array(doc, dtype=np.int64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="model folder (config.json + safetensors)")
    ap.add_argument("--input", help="JSON file with token ids (default: stdin)")
    ap.add_argument("--out", help="write raw little-endian float32 [B, T, V] here instead of JSON")
    ap.add_argument("--log-softmax", action="store_true", help="emit log-probabilities instead of logits")
    args = ap.parse_args()

    with open(os.path.join(args.model, "config.json")) as f:
        cfg = Config(json.load(f))
    weights = read_weights(args.model)
    text = open(args.input).read() if args.input else sys.stdin.read()
    ids = parse_ids(json.loads(text))
    vocab = weights["model.embed_tokens.weight"].shape[0]
    if int(ids.min()) < 0 or int(ids.max()) >= vocab:
        fail(f"token id out of range [0, {vocab})")
    global torch
    import torch as _torch

    torch = _torch
    torch.set_grad_enabled(False)
    weights = {k: torch.from_numpy(v) for k, v in weights.items()}
    out = forward(cfg, weights, torch.from_numpy(ids))
    if args.log_softmax:
        out = torch.log_softmax(out, dim=-1)
    shape = list(out.shape)
    if args.out:
        out.numpy().astype("<f4").tofile(args.out)
        print(json.dumps({"shape": shape, "out": args.out}))
    else:
        key = "logprobs" if args.log_softmax else "logits"
        json.dump({"shape": shape, key: out.tolist()}, sys.stdout)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
