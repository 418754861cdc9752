#!/usr/bin/env python3
"""Checks an export-trl folder from TRL's side (tools/e2e/trl-export.test.ts runs it with tools/reference/.venv-trl):

- transformers loads the policy's Hugging Face folder and tokenizer exactly as ragrpo wrote them;
- TRL's own prompt tokenization (the chat template applied by transformers to the conversational `prompt`
  column, or the plain text) gives the token ids ragrpo's prompts stage wrote (prompts.arrow's prompt_ids);
- GRPOConfig accepts every field of grpo_config.json (each is a GRPOConfig field, none unknown).

    python tools/reference/trl_export_check.py --export artifacts/<name>/export-trl --ids ids.json
      ids.json: {"<question_id>": [token ids], ...}; prints one JSON object.
"""
import argparse
import dataclasses
import json
import sys
import tempfile
import warnings
from pathlib import Path

warnings.simplefilter("ignore")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--export", required=True)
    p.add_argument("--ids", required=True)
    a = p.parse_args()
    export = Path(a.export)
    manifest = json.loads((export / "export.json").read_text())
    expected = json.loads(Path(a.ids).read_text())

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig

    folder = (export / manifest["policy"]["folder"]).resolve()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
    rows = [json.loads(line) for line in (export / manifest["dataset"]["file"]).read_text().splitlines() if line.strip()]
    mismatches = []
    for row in rows:
        prompt = row["prompt"]
        if isinstance(prompt, list):
            ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]
        else:
            ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        if list(ids) != expected[row["question_id"]]:
            mismatches.append(row["question_id"])
    config = json.loads((export / manifest["grpo_config"]).read_text())
    fields = {f.name for f in dataclasses.fields(GRPOConfig)}
    unknown = sorted(k for k in config if k not in fields)
    with tempfile.TemporaryDirectory() as out:
        args = GRPOConfig(output_dir=out, use_cpu=True, **{k: v for k, v in config.items() if k in fields})
    with torch.no_grad():
        logits = model(torch.tensor([expected[rows[0]["question_id"]]])).logits
    json.dump({
        "model_class": type(model).__name__,
        "tokenizer_class": type(tokenizer).__name__,
        "vocab_size": model.config.vocab_size,
        "rows": len(rows),
        "conversational": isinstance(rows[0]["prompt"], list),
        "token_mismatches": mismatches,
        "unknown_config_fields": unknown,
        "config": {"loss_type": args.loss_type, "beta": args.beta, "epsilon_high": args.epsilon_high, "reward_weights": args.reward_weights,
                   "bf16": args.bf16, "gradient_checkpointing": args.gradient_checkpointing, "seed": args.seed},
        "logits_finite": bool(torch.isfinite(logits).all()),
    }, sys.stdout)


if __name__ == "__main__":
    main()
