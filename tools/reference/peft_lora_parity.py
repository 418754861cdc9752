"""PEFT oracle for ragrpo's LoRA adapter files (tools/e2e/smollm2-peft.test.ts).

Loads the model folder with transformers (float32, eager attention) and the ragrpo-trained adapter folder with
`PeftModel.from_pretrained(model, adapter_dir)`, exactly as a PEFT user would, then:
  - checks that every tensor of adapter_model.safetensors landed in its LoRA module (names mapped, shapes and
    values equal) and that every LoRA module got one: the files are what PEFT expects, not merely loadable;
  - writes the logits for fixed token ids at fixed columns and at each position's top-10, each position's
    logsumexp, and how far the adapter moves the logits from the base model (the check must be sensitive).

    tools/reference/.venv/bin/python tools/reference/peft_lora_parity.py --model models/smollm2-135m-instruct \
        --adapter DIR --ids-json IDS.json --out tools/reference/peft_lora_parity.json

Test tooling only (the venv from tools/reference/setup_venv.sh, peft from requirements.txt).
"""
import argparse
import hashlib
import json
import sys
import warnings

import torch


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--ids-json", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--columns", type=int, default=128, help="fixed logit columns compared at every position")
    a = ap.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(2)

    import peft
    import transformers
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    transformers.logging.set_verbosity_error()
    base = AutoModelForCausalLM.from_pretrained(a.model, torch_dtype=torch.float32, attn_implementation="eager")
    base.eval()
    with open(a.ids_json) as f:
        ids = torch.tensor(json.load(f), dtype=torch.long)
    with torch.no_grad():
        base_logits = base(input_ids=ids).logits.double()

    model = PeftModel.from_pretrained(base, a.adapter)
    model.eval()

    # Every file tensor in its module: base_model.model.<module>.lora_{A,B}.weight -> <module>.lora_{A,B}["default"].
    tensors = load_file(f"{a.adapter}/adapter_model.safetensors")
    modules = dict(model.named_modules())
    loaded = 0
    for name, t in tensors.items():
        if not (name.startswith("base_model.model.") and (name.endswith(".lora_A.weight") or name.endswith(".lora_B.weight"))):
            sys.exit(f"peft_lora_parity: unexpected tensor name {name}")
        which = "lora_A" if name.endswith(".lora_A.weight") else "lora_B"
        owner = modules.get(name[: -len(f".{which}.weight")])
        if owner is None or not hasattr(owner, which):
            sys.exit(f"peft_lora_parity: {name}: no LoRA module for it in the PEFT model")
        w = getattr(owner, which)["default"].weight
        if tuple(w.shape) != tuple(t.shape) or not torch.equal(w.detach().float(), t.float()):
            sys.exit(f"peft_lora_parity: {name}: PEFT loaded other values or shape {tuple(w.shape)} vs {tuple(t.shape)}")
        loaded += 1
    lora_modules = [n for n, m in model.named_modules() if hasattr(m, "lora_A") and "default" in getattr(m, "lora_A")]
    if 2 * len(lora_modules) != loaded:
        sys.exit(f"peft_lora_parity: {len(lora_modules)} LoRA modules but {loaded} tensors in the file")
    cfg = model.peft_config["default"]

    with torch.no_grad():
        logits = model(input_ids=ids).logits.double()
    V = logits.shape[-1]
    step = max(1, V // a.columns)
    columns = list(range(0, V, step))[: a.columns]
    top = logits.topk(10, dim=-1)

    def r6(t):  # 6 decimals: far below the 1e-3 compared, and a fixture a sixth of the size
        return [[[round(x, 6) for x in row] for row in seq] for seq in t.tolist()]

    out = {
        "adapter_sha256": sha256(f"{a.adapter}/adapter_model.safetensors"),
        "config_sha256": sha256(f"{a.adapter}/adapter_config.json"),
        "peft_config": {"r": cfg.r, "lora_alpha": cfg.lora_alpha, "target_modules": sorted(cfg.target_modules), "task_type": str(cfg.task_type)},
        "ids": ids.tolist(),
        "columns": columns,
        "logits": r6(logits[:, :, columns]),
        "top_ids": top.indices.tolist(),
        "top_logits": r6(top.values),
        "logsumexp": [[round(x, 6) for x in seq] for seq in torch.logsumexp(logits, dim=-1).tolist()],
        "base_max_abs_delta": float((logits[:, :, columns] - base_logits[:, :, columns]).abs().max()),
        "loaded_tensors": loaded,
        "versions": {"peft": peft.__version__, "transformers": transformers.__version__, "torch": torch.__version__},
    }
    with open(a.out, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print(f"peft_lora_parity: {loaded} LoRA tensors in {len(lora_modules)} modules loaded by PeftModel.from_pretrained (r={cfg.r}, "
          f"alpha={cfg.lora_alpha}, {sorted(cfg.target_modules)}); the adapter moves the logits by up to {out['base_max_abs_delta']:.3f}; "
          f"peft {peft.__version__}, transformers {transformers.__version__}, torch {torch.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
