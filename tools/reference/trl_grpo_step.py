#!/usr/bin/env python3
"""TRL's side of `npm run bench -- trl` (tools/bench/trl.ts): one whole GRPO step in TRL's GRPOTrainer on CPU,
split into generation and training, timed on the model folder and LoRA adapter ragrpo times on.

    tools/reference/.venv-trl/bin/python tools/reference/trl_grpo_step.py --model DIR --adapter DIR \
        --batch batch.json --steps N --warmup N --threads N > trl.json

batch.json: prompt_ids ([P][Tp], one length: no left padding), advantages ([P*G], in TRL's order: prompt-major),
num_generations (G), max_completion_length, temperature, loss_type, beta, micro_batch (per_device_train_batch_size;
gradient_accumulation_steps = P*G / micro_batch, so one generation batch is one optimizer step), learning_rate.

A step is what a GRPOTrainer step does on CPU without vLLM, with TRL's own code wherever TRL has it:
  generation  `trainer._generate_single_turn` on the P*G prompt rows (TRL's RepeatSampler repeats each prompt G
              times): unwrap_model_for_generation + model.generate with the trainer's GenerationConfig (do_sample,
              temperature, top_p 1, top_k 0, repetition_penalty 1; min_new_tokens = max_completion_length so that
              every completion has exactly max_completion_length tokens, as ragrpo's side samples without EOS)
  training    the reference log-probs (`_get_per_token_logps_and_entropies` under `use_adapter(ref)`, batches of
              micro_batch, as `_generate_and_score_completions` computes them), then for each micro-batch
              `_compute_loss` + backward (gradient accumulation), `clip_grad_norm_`, the optimizer step and zero_grad.
Rewards and advantages are not timed (the advantages are given; ragrpo's side does not time its scoring either).
Prints one JSON object: medians and every step's seconds, completion tokens, threads, versions.
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
from peft import PeftModel  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402
from trl.trainer.utils import use_adapter  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--adapter", required=True)
    p.add_argument("--batch", required=True)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    b = json.load(open(a.batch))
    G, T, mb = b["num_generations"], b["max_completion_length"], b["micro_batch"]
    prompts = [list(ids) for ids in b["prompt_ids"] for _ in range(G)]  # RepeatSampler order: prompt-major
    N = len(prompts)
    assert N % mb == 0 and len({len(x) for x in prompts}) == 1, "P*G divisible by micro_batch, prompts of one length"
    assert len(b["advantages"]) == N

    tokenizer = AutoTokenizer.from_pretrained(a.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    base = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, a.adapter, is_trainable=True)

    with tempfile.TemporaryDirectory() as tmp:
        args = GRPOConfig(
            output_dir=tmp, use_cpu=True, bf16=False, fp16=False, report_to="none", gradient_checkpointing=False,
            per_device_train_batch_size=mb, gradient_accumulation_steps=N // mb, num_generations=G,
            max_completion_length=T, temperature=b["temperature"], top_p=1.0, top_k=0, repetition_penalty=1.0,
            generation_kwargs={"min_new_tokens": T}, loss_type=b["loss_type"], beta=b["beta"],
            use_bias_correction_kl=False, learning_rate=b["learning_rate"], max_grad_norm=1.0,
            max_steps=a.steps + a.warmup, logging_steps=1, seed=0,
        )
        trainer = GRPOTrainer(model=model, reward_funcs=[lambda completions, **kw: [0.0] * len(completions)], args=args,
                              train_dataset=Dataset.from_dict({"prompt": ["p"] * N}), processing_class=tokenizer)
        trainer.create_optimizer_and_scheduler(num_training_steps=a.steps + a.warmup)
        trainer.current_gradient_accumulation_steps = N // mb  # what the training loop sets
        trainer.model.train()
        unwrapped = trainer.accelerator.unwrap_model(trainer.model)
        trained = [p for p in trainer.model.parameters() if p.requires_grad]
        prompt_ids = torch.tensor(prompts)
        prompt_mask = torch.ones_like(prompt_ids)
        advantages = torch.tensor(b["advantages"], dtype=torch.float32)
        gen_s, train_s, tokens = [], [], []
        for i in range(a.warmup + a.steps):
            t0 = time.perf_counter()
            completion_ids, _ = trainer._generate_single_turn(prompts, None, {}, G)
            t1 = time.perf_counter()
            width = max(len(c) for c in completion_ids)
            completions = torch.tensor([c + [tokenizer.pad_token_id] * (width - len(c)) for c in completion_ids])
            completion_mask = torch.tensor([[1] * len(c) + [0] * (width - len(c)) for c in completion_ids])
            ids = torch.cat([prompt_ids, completions], 1)
            attention = torch.cat([prompt_mask, completion_mask], 1)
            ref = None
            if b["beta"] != 0.0:
                with torch.no_grad(), use_adapter(unwrapped, adapter_name="ref" if "ref" in unwrapped.peft_config else None):
                    ref, _, _ = trainer._get_per_token_logps_and_entropies(trainer.model, ids, attention, width, batch_size=mb)
            num_items = completion_mask.sum()
            for s in range(0, N, mb):
                inputs = {
                    "prompt_ids": prompt_ids[s:s + mb], "prompt_mask": prompt_mask[s:s + mb],
                    "completion_ids": completions[s:s + mb], "completion_mask": completion_mask[s:s + mb],
                    "advantages": advantages[s:s + mb], "num_items_in_batch": num_items,
                }
                if ref is not None:
                    inputs["ref_per_token_logps"] = ref[s:s + mb]
                trainer._compute_loss(trainer.model, inputs).backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            trainer.optimizer.step()
            trainer.lr_scheduler.step()
            trainer.optimizer.zero_grad(set_to_none=True)
            t2 = time.perf_counter()
            if i >= a.warmup:
                gen_s.append(t1 - t0)
                train_s.append(t2 - t1)
                tokens.append(int(num_items))
            print(f"[trl] step {i + 1}/{a.warmup + a.steps}{' (warm-up)' if i < a.warmup else ''}: generation {t1 - t0:.2f} s, "
                  f"training {t2 - t1:.2f} s, {int(num_items)} completion tokens", file=sys.stderr, flush=True)

    steps = [g + t for g, t in zip(gen_s, train_s)]
    import trl
    import transformers
    json.dump({
        "generation_s": statistics.median(gen_s), "training_s": statistics.median(train_s), "step_s": statistics.median(steps),
        "generation_times_s": gen_s, "training_times_s": train_s, "completion_tokens": statistics.median(tokens),
        "threads": torch.get_num_threads(), "torch": torch.__version__, "trl": trl.__version__, "transformers": transformers.__version__,
    }, sys.stdout)


if __name__ == "__main__":
    main()
