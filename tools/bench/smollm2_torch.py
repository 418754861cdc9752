"""The transformers peer of tools/bench/engine-smollm2.ts: SmolLM2-135M-Instruct's forward pass on CPU torch.

Same model folder (models/smollm2-135m-instruct, F32), same shapes, same token ids as the ragrpo side:
  prefill  B x T prompt tokens through LlamaForCausalLM (use_cache=True, logits at every position, as ours)
  decode   `new` greedy tokens after the prefill: the new - 1 cached forwards after the prefill's token, timed
           alone (generate()'s greedy loop written out: every row decodes exactly `new` tokens, no EOS stop)
Prints one JSON line: {"torch", "transformers", "threads", "blas", "cases": {"b1": {...}, "b8": {...}}}.
Times are medians of --runs after one warm-up. Runs in the oracle venv (tools/reference/.venv):

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 tools/reference/.venv/bin/python tools/bench/smollm2_torch.py \
        --model models/smollm2-135m-instruct --ids-json /tmp/ids.json --new 32 --threads 2
"""
import argparse
import json
import statistics
import time
import warnings

import torch
import transformers
from transformers import AutoModelForCausalLM


def loaded_blas():
    try:
        with open("/proc/self/maps") as f:
            return sorted({line.split()[-1].rsplit("/", 1)[-1] for line in f if "blas" in line.lower() or "mkl" in line.lower()})
    except OSError:
        return []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--ids-json", required=True, help="a JSON list of prompts (lists of token ids, equal length)")
    ap.add_argument("--new", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    warnings.filterwarnings("ignore")
    transformers.logging.set_verbosity_error()
    model = AutoModelForCausalLM.from_pretrained(a.model, torch_dtype=torch.float32, attn_implementation="eager")
    model.eval()
    with open(a.ids_json) as f:
        prompts = json.load(f)
    cases = {}
    for key, rows in (("b1", prompts[:1]), ("b8", prompts[:8])):
        ids = torch.tensor(rows, dtype=torch.long)
        B, T = ids.shape

        def prefill():
            with torch.no_grad():
                model(input_ids=ids, use_cache=True)

        def decode():
            # generate()'s greedy loop by hand (generate() itself crashes on Debian's torch 1.13 importing
            # torch.distributed.fsdp): the prefill (not timed), then one cached forward per new token (timed).
            with torch.no_grad():
                out = model(input_ids=ids, use_cache=True)
                past = out.past_key_values
                nxt = out.logits[:, -1, :].argmax(-1, keepdim=True)
                t = time.perf_counter()
                for _ in range(a.new - 1):
                    out = model(input_ids=nxt, past_key_values=past, use_cache=True)
                    past = out.past_key_values
                    nxt = out.logits[:, -1, :].argmax(-1, keepdim=True)
                return (time.perf_counter() - t) * 1000

        def timed(fn):
            fn()
            out = []
            for _ in range(a.runs):
                t = time.perf_counter()
                inner = fn()
                out.append(inner if inner is not None else (time.perf_counter() - t) * 1000)
            return statistics.median(out)

        p_ms = timed(prefill)
        d_ms = timed(decode)
        # ours counts a + (new - 1) decode steps the same way: new tokens per row over the decode steps' time
        cases[key] = {"batch": B, "prompt_len": T, "new": a.new, "prefill_ms": p_ms, "decode_ms": d_ms,
                      "prefill_tok_per_s": B * T / p_ms * 1000, "decode_tok_per_s": B * (a.new - 1) / d_ms * 1000}
    print(json.dumps({"torch": torch.__version__, "transformers": transformers.__version__, "threads": a.threads,
                      "blas": loaded_blas(), "cases": cases}))


if __name__ == "__main__":
    main()
