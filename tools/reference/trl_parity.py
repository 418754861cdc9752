#!/usr/bin/env python3
"""TRL's side of the parity tests (tools/e2e/trl-parity.test.ts), computed by TRL's own GRPOTrainer, never re-typed.

    python tools/reference/trl_parity.py loss --model DIR --adapter DIR --batch batch.json > trl.json
    python tools/reference/trl_parity.py advantages --model DIR --rewards rewards.json > trl.json
    python tools/reference/trl_parity.py bench --model DIR --adapter DIR --batch batch.json --steps N > trl.json

loss: for every case (loss_type x beta x importance_sampling_level) a GRPOTrainer over the LoRA model, then
  `trainer._compute_loss(model, inputs)` on the fixed batch (prompts of one length: no left padding, so the
  positions are those ragrpo uses), `loss.backward()`, the LoRA gradients. old and reference log-probs are the
  model's own per-token log-probs (TRL's `_get_per_token_logps_and_entropies`) plus seeded noise, so ratios
  leave the clip range; they are written out for ragrpo to use the same ones.
advantages: for every scale_rewards x multi_objective_aggregation, a GRPOTrainer whose reward functions return
  the given values (None = null) and whose `_generate` returns fixed completions; TRL's
  `_generate_and_score_completions` computes the advantages.
bench: TRL's training step (`training_step` = forward, loss, backward; then the optimizer step) on the same
  batch, median seconds after warm-up.
"""
import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings

warnings.simplefilter("ignore")

import torch  # noqa: E402
from datasets import Dataset  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402


def trainer_for(model, tokenizer, out, reward_funcs, **cfg):
    # a trainer with beta > 0 adds a frozen "ref" copy of the adapter to a PeftModel; the next trainer makes its own
    if hasattr(model, "peft_config") and "ref" in model.peft_config:
        model.delete_adapter("ref")
        model.set_adapter("default")
    # use_bias_correction_kl off, as export-trl writes it: ragrpo's KL term is the plain beta x k3
    cfg.setdefault("use_bias_correction_kl", False)
    args = GRPOConfig(output_dir=out, use_cpu=True, bf16=False, report_to="none", gradient_checkpointing=False,
                      gradient_accumulation_steps=1, steps_per_generation=1, logging_steps=1, **cfg)
    dataset = Dataset.from_dict({"prompt": ["p"] * cfg["per_device_train_batch_size"]})
    trainer = GRPOTrainer(model=model, reward_funcs=reward_funcs, args=args, train_dataset=dataset, processing_class=tokenizer)
    trainer.current_gradient_accumulation_steps = 1  # set by training_step in a real run
    return trainer


def padded(rows, width, value):
    return torch.tensor([list(r) + [value] * (width - len(r)) for r in rows])


def load(model_dir, adapter_dir):
    from peft import PeftModel
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    return PeftModel.from_pretrained(base, adapter_dir, is_trainable=True), tokenizer


def ragrpo_name(name):
    # PEFT: base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight -> model.layers.0...lora_A.weight
    return name.removeprefix("base_model.model.").replace(".default.", ".")


def batch_inputs(b, tokenizer):
    completions = b["completion_ids"]
    width = max(len(c) for c in completions)
    prompt_ids = torch.tensor(b["prompt_ids"])
    assert len({len(p) for p in b["prompt_ids"]}) == 1, "prompts of one length (no left padding)"
    completion_ids = padded(completions, width, tokenizer.pad_token_id)
    mask = padded([[1] * len(c) for c in completions], width, 0)
    return {
        "prompt_ids": prompt_ids, "prompt_mask": torch.ones_like(prompt_ids),
        "completion_ids": completion_ids, "completion_mask": mask,
        "advantages": torch.tensor(b["advantages"], dtype=torch.float32),
        "num_items_in_batch": mask.sum(),
    }


def cmd_loss(a):
    b = json.load(open(a.batch))
    model, tokenizer = load(a.model, a.adapter)
    inputs = batch_inputs(b, tokenizer)
    mask = inputs["completion_mask"]
    g = torch.Generator().manual_seed(b.get("seed", 0))
    out = {"torch": torch.__version__, "trl": __import__("trl").__version__, "cases": []}
    with tempfile.TemporaryDirectory() as tmp:
        base = trainer_for(model, tokenizer, tmp, [lambda completions, **kw: [0.0] * len(completions)],
                           per_device_train_batch_size=len(b["completion_ids"]), num_generations=b["num_generations"],
                           max_completion_length=b["max_completion_length"], temperature=b["temperature"])
        input_ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], dim=1)
        attention = torch.cat([inputs["prompt_mask"], mask], dim=1)
        with torch.no_grad():
            logps, _, _ = base._get_per_token_logps_and_entropies(base.model, input_ids, attention, mask.size(1))
        old = (logps + b["old_noise"] * torch.randn(logps.shape, generator=g)) * mask
        ref = (logps + b["ref_noise"] * torch.randn(logps.shape, generator=g)) * mask
        out["old_logprobs"] = [old[i, : len(c)].tolist() for i, c in enumerate(b["completion_ids"])]
        out["ref_logprobs"] = [ref[i, : len(c)].tolist() for i, c in enumerate(b["completion_ids"])]
        out["logprobs"] = [logps[i, : len(c)].tolist() for i, c in enumerate(b["completion_ids"])]
        for case in b["cases"]:
            trainer = trainer_for(model, tokenizer, tmp, [lambda completions, **kw: [0.0] * len(completions)],
                                  per_device_train_batch_size=len(b["completion_ids"]), num_generations=b["num_generations"],
                                  max_completion_length=b["max_completion_length"], temperature=b["temperature"],
                                  loss_type=case["loss_type"], beta=case["beta"], epsilon=b["epsilon"], epsilon_high=b["epsilon_high"],
                                  importance_sampling_level=case["importance_sampling_level"],
                                  use_bias_correction_kl=case.get("use_bias_correction_kl", False))
            trainer.model.train()
            trainer.model.zero_grad(set_to_none=True)
            loss = trainer._compute_loss(trainer.model, {**inputs, "old_per_token_logps": old, "ref_per_token_logps": ref})
            loss.backward()
            grads = {ragrpo_name(n): p.grad.flatten().tolist() for n, p in trainer.model.named_parameters()
                     if p.requires_grad and "lora_" in n and ".default." in n}
            out["cases"].append({**case, "loss": loss.item(), "grads": grads})
    json.dump(out, sys.stdout)


def cmd_advantages(a):
    spec = json.load(open(a.rewards))
    rewards = spec["rewards"]  # [reward][completion], null = None
    n, k, group = len(rewards[0]), len(rewards), spec["num_generations"]
    tokenizer = AutoTokenizer.from_pretrained(a.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)

    def reward_func(j):
        def f(completions, **kw):
            return list(rewards[j])
        f.__name__ = f"r{j}"
        return f

    out = {"cases": []}
    with tempfile.TemporaryDirectory() as tmp:
        for case in spec["cases"]:
            trainer = trainer_for(model, tokenizer, tmp, [reward_func(j) for j in range(k)], per_device_train_batch_size=n,
                                  num_generations=group, max_completion_length=4, reward_weights=spec["weights"],
                                  scale_rewards=case["scale_rewards"], multi_objective_aggregation=case["multi_objective_aggregation"])
            trainer.model.train()  # train mode: num_generations and the "train" metrics, as in a training step
            ids = [[5, 6, 7]] * n
            # fixed completions in place of sampling; everything after it is TRL's
            trainer._generate = lambda prompts: ([[3, 4]] * n, ids, None, ["c"] * n, None, {}, None, [])
            result = trainer._generate_and_score_completions([{"prompt": "p"} for _ in range(n)])
            metrics = {name: values[-1] for name, values in trainer._metrics["train"].items()
                       if name in ("reward", "reward_std", "frac_reward_zero_std") or name.startswith("rewards/")}
            out["cases"].append({**case, "advantages": result["advantages"].tolist(), "metrics": metrics})
    json.dump(out, sys.stdout)


def cmd_bench(a):
    b = json.load(open(a.batch))
    torch.set_num_threads(a.threads)
    model, tokenizer = load(a.model, a.adapter)
    inputs = batch_inputs(b, tokenizer)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = trainer_for(model, tokenizer, tmp, [lambda completions, **kw: [0.0] * len(completions)],
                              per_device_train_batch_size=len(b["completion_ids"]), num_generations=b["num_generations"],
                              max_completion_length=b["max_completion_length"], temperature=b["temperature"],
                              loss_type=b["loss_type"], beta=b["beta"], learning_rate=1e-4, max_steps=a.steps + a.warmup)
        trainer.create_optimizer_and_scheduler(num_training_steps=a.steps + a.warmup)
        trainer.model.train()
        times = []
        for i in range(a.warmup + a.steps):
            ref = None
            t0 = time.perf_counter()
            if b["beta"] > 0:  # the reference log-probs are part of a GRPO step (ragrpo computes them in its step too)
                with torch.no_grad(), trainer.model.disable_adapter():
                    ref, _, _ = trainer._get_per_token_logps_and_entropies(
                        trainer.model, torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], 1),
                        torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], 1), inputs["completion_ids"].size(1))
            step_inputs = dict(inputs) if ref is None else {**inputs, "ref_per_token_logps": ref}
            loss = trainer._compute_loss(trainer.model, step_inputs)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in trainer.model.parameters() if p.requires_grad], 1.0)
            trainer.optimizer.step()
            trainer.optimizer.zero_grad(set_to_none=True)
            if i >= a.warmup:
                times.append(time.perf_counter() - t0)
    json.dump({"median_s": statistics.median(times), "times_s": times, "threads": torch.get_num_threads(), "torch": torch.__version__}, sys.stdout)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    lo = sub.add_parser("loss")
    lo.add_argument("--model", required=True)
    lo.add_argument("--adapter", required=True)
    lo.add_argument("--batch", required=True)
    ad = sub.add_parser("advantages")
    ad.add_argument("--model", required=True)
    ad.add_argument("--rewards", required=True)
    be = sub.add_parser("bench")
    be.add_argument("--model", required=True)
    be.add_argument("--adapter", required=True)
    be.add_argument("--batch", required=True)
    be.add_argument("--steps", type=int, default=10)
    be.add_argument("--warmup", type=int, default=3)
    be.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    {"loss": cmd_loss, "advantages": cmd_advantages, "bench": cmd_bench}[a.cmd](a)


if __name__ == "__main__":
    main()
