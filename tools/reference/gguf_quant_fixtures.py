#!/usr/bin/env python3
"""gguf-py oracle for @ragrpo/gguf's dequantization kernels.

For each ggml type the importer reads (F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K):
random block bytes (seeded; the float16 scale fields replaced by finite values, so every bit of
the quantized payload is exercised) and what gguf.quants.dequantize (gguf-py, the package
llama.cpp maintains) makes of them, as float32.

Run from the repository root (venv: tools/reference/setup_venv.sh):
    tools/reference/.venv/bin/python tools/reference/gguf_quant_fixtures.py
writes packages/gguf/test/fixtures/quants.json. Test-only; never a runtime dependency.
"""
import base64
import importlib.metadata as md
import json
import os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "packages", "gguf", "test", "fixtures", "quants.json")

# Byte offsets of float16 scale fields inside one block.
HALF_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
TYPES = [T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q4_K, T.Q5_K, T.Q6_K]


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def case(rng, qtype):
    block, size = GGML_QUANT_SIZES[qtype]
    n_values = 512 if block > 1 else 96
    if qtype == T.F16:
        raw = rng.standard_normal(n_values).astype("<f2").view(np.uint8)
    elif qtype == T.BF16:
        f = rng.standard_normal(n_values).astype("<f4")
        raw = (f.view(np.uint32) >> 16).astype("<u2").view(np.uint8)
    else:
        n_blocks = n_values // block
        raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
        for off in HALF_FIELDS[qtype]:
            halves = (rng.standard_normal(n_blocks) * 0.02).astype("<f2")
            raw[:, off:off + 2] = halves.view(np.uint8).reshape(n_blocks, 2)
        raw = raw.reshape(-1)
    values = dequantize(raw, qtype).astype("<f4").reshape(-1)
    assert values.size == n_values and np.isfinite(values).all()
    return {"type": qtype.name, "type_id": int(qtype), "numel": n_values, "bytes_base64": b64(raw), "float32_base64": b64(values)}


def main():
    rng = np.random.default_rng(20240601)
    fixture = {"oracle": {"gguf": md.version("gguf"), "numpy": np.__version__}, "cases": [case(rng, t) for t in TYPES]}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
