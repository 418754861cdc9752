#!/usr/bin/env python3
"""ragrpo's GRPO run handed to TRL's GRPOTrainer. Written by `npx nx run <pipeline>:export-trl` beside
export.json, grpo_config.json and train.jsonl; it reads them from its own folder.

    npx ragrpo reward-server --pipeline pipelines/<name>.yaml --port 8787 &
    python artifacts/<name>/export-trl/train_trl.py [--output-dir DIR] [--reward-url URL] [--max-steps N]
    accelerate launch artifacts/<name>/export-trl/train_trl.py ...      # many GPUs (DeepSpeed via accelerate's config)

The policy is the pipeline's Hugging Face folder, loaded by transformers as is; with the sft stage's LoRA
warm-up, TRL trains on from that adapter and keeps a frozen copy of it as the reference (TRL's "ref"
adapter), so the reference policy is the warm-up policy, as in grpo-train (which instead merges the warm-up
and starts a fresh adapter: the same start policy and reference, another parametrisation); the dataset is the train split's prompts with their ranked
context; GRPOConfig is the pipeline's grpo: options (export.json lists them option by option); every reward
is scored by ragrpo's reward server, one POST per reward and batch, and weighted on TRL's side
(`reward_weights`). Needs torch, transformers, trl, peft, accelerate and datasets
(tools/reference/setup_trl_venv.sh makes such a venv).

Writes into the output folder (default: trl-output beside this script): TRL's checkpoints, adapter/ (the
PEFT LoRA adapter over the policy folder) or model/ (full training), metrics.jsonl
(TRL's log history) and policy.json (a ragrpo policy record, so ragrpo's evaluate or
`npx ragrpo generate --model BASE --adapter DIR/adapter` can load the result).
"""
import argparse
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
# TRL passes these to reward functions besides the dataset columns; they are not data
NOT_COLUMNS = {"trainer_state", "log_extra", "log_metric", "environments"}


def fail(message):
    print(f"train_trl: error: {message}", file=sys.stderr)
    sys.exit(1)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Train the exported ragrpo pipeline with TRL's GRPOTrainer")
    p.add_argument("--output-dir", default=str(HERE / "trl-output"), help="TRL's output_dir (default: trl-output beside this script)")
    p.add_argument("--reward-url", default=None, help="the reward server (default: export.json's, http://127.0.0.1:8787)")
    p.add_argument("--reward-timeout", type=float, default=600.0, help="seconds to wait for one reward batch")
    p.add_argument("--model", default=None, help="another copy of the policy folder (default: export.json's)")
    p.add_argument("--max-steps", type=int, default=None, help="override grpo max_steps")
    p.add_argument("--no-resume", action="store_true", help="start over even if the output folder holds checkpoints")
    return p.parse_args(argv)


class RewardServer:
    """TRL's reward functions, each a POST of the batch to ragrpo's reward server."""

    def __init__(self, url, timeout):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def request(self, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, method="GET" if body is None else "POST",
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")
            try:
                detail = json.loads(detail).get("error", detail)
            except ValueError:
                pass
            raise RuntimeError(f"reward server {self.url}{path}: HTTP {e.code}: {detail}") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            raise RuntimeError(f"reward server {self.url}{path}: {getattr(e, 'reason', e)} (is `npx ragrpo reward-server` running?)") from None

    def check(self, rewards):
        try:
            info = self.request("/rewards")
        except RuntimeError as e:
            fail(f"{e}; start it with: {rewards['server']['command']}")
        if info.get("spec_sha256") != rewards["spec_sha256"]:
            fail(f"the reward server at {self.url} scores with other reward settings (spec sha256 {str(info.get('spec_sha256'))[:12]}) "
                 f"than this export ({rewards['spec_sha256'][:12]}): re-run export-trl or serve the same pipeline file")
        return info

    def functions(self, names, tokenizer):
        def prompt_text(p):
            # conversational prompts are rendered with the policy's chat template: the text ragrpo's rewards see
            return p if isinstance(p, str) else tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True)

        def completion_text(c):
            return c if isinstance(c, str) else "".join(m.get("content") or "" for m in c if m.get("role") == "assistant")

        def make(name):
            def reward(prompts, completions, completion_ids, **kwargs):
                columns = {k: list(v) for k, v in kwargs.items() if k not in NOT_COLUMNS and isinstance(v, (list, tuple))}
                body = {
                    "rewards": [name],
                    "prompts": [prompt_text(p) for p in prompts],
                    "completions": [completion_text(c) for c in completions],
                    "completion_ids": [[int(t) for t in ids] for ids in completion_ids],
                    "columns": columns,
                }
                return self.request("/score", body)["rewards"][name]

            reward.__name__ = name  # TRL logs rewards/<name>/mean under the function's name
            return reward

        return [make(n) for n in names]


def folder_digest(folder):
    """sha256 over a folder's files, recursively in sorted order, as @ragrpo/config's digestPaths(['.'], folder)."""
    h = hashlib.sha256()

    def walk(p):
        if p.is_dir():
            for name in sorted(os.listdir(p)):
                walk(p / name)
        else:
            h.update(f"{p.relative_to(folder).as_posix()}\0{hashlib.sha256(p.read_bytes()).hexdigest()}\n".encode("utf-8"))

    walk(folder)
    return h.hexdigest()


def last_checkpoint(out):
    steps = [(int(p.name.split("-")[1]), p) for p in out.glob("checkpoint-*") if p.name.split("-")[1].isdigit()]
    return str(max(steps)[1]) if steps else None


def main(argv=None):
    args = parse_args(argv)
    manifest = json.loads((HERE / "export.json").read_text())
    policy, rewards = manifest["policy"], manifest["rewards"]
    server = RewardServer(args.reward_url or rewards["server"]["url"], args.reward_timeout)
    server.check(rewards)

    import torch
    from datasets import load_dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    folder = Path(args.model) if args.model else (HERE / policy["folder"]).resolve()
    if not (folder / "config.json").exists():
        fail(f"{folder}: no config.json: not the policy's Hugging Face folder (pass --model DIR)")
    out = Path(args.output_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
    peft_config = None
    if policy["warmup_adapter"]:
        # train on from the warm-up adapter; TRL keeps a frozen copy ("ref") as the reference policy when beta > 0
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, str((HERE / policy["warmup_adapter"]).resolve()), is_trainable=True)
    elif policy["trainable"] == "lora":
        from peft import LoraConfig
        lora = policy["lora"]
        peft_config = LoraConfig(r=lora["r"], lora_alpha=lora["lora_alpha"], lora_dropout=lora["lora_dropout"],
                                 target_modules=list(lora["target_modules"]), bias="none", task_type="CAUSAL_LM")

    config = json.loads((HERE / manifest["grpo_config"]).read_text())
    if args.max_steps is not None:
        config["max_steps"] = args.max_steps
    config.setdefault("use_cpu", not torch.cuda.is_available())
    grpo_config = GRPOConfig(output_dir=str(out), **config)
    dataset = load_dataset("json", data_files=str(HERE / manifest["dataset"]["file"]), split="train")
    trainer = GRPOTrainer(model=model, reward_funcs=server.functions(rewards["reward_funcs"], tokenizer), args=grpo_config,
                          train_dataset=dataset, processing_class=tokenizer, peft_config=peft_config)
    resume = None if args.no_resume else last_checkpoint(out)
    started = time.time()
    trainer.train(resume_from_checkpoint=resume)
    seconds = time.time() - started

    # the record as the sft stage writes one: the base folder and its digest, the adapter and its own digest
    record = dict(policy["record"])
    if policy["trainable"] == "lora":
        trainer.model.save_pretrained(str(out / "adapter"), selected_adapters=["default"])
        record.update(location={"base": "absolute", "path": str(folder)},
                      adapter={"base": "artifact", "path": "adapter", "digest": folder_digest(out / "adapter")})
    else:
        trainer.save_model(str(out / "model"))
        record.update(location={"base": "artifact", "path": "model"}, digest=folder_digest(out / "model"))
        record.pop("adapter", None)
    (out / "policy.json").write_text(json.dumps(record, indent=2) + "\n")
    with open(out / "metrics.jsonl", "w") as f:
        for row in trainer.state.log_history:
            f.write(json.dumps(row) + "\n")
    rows = [r for r in trainer.state.log_history if "reward" in r]
    first, last = (rows[0]["reward"], rows[-1]["reward"]) if rows else (float("nan"), float("nan"))
    print(f"train_trl: {trainer.state.global_step} GRPO steps ({policy['trainable']}, {grpo_config.loss_type}, beta {grpo_config.beta}): "
          f"reward {first:.3f} -> {last:.3f} in {seconds:.1f} s -> {out}")


if __name__ == "__main__":
    main()
