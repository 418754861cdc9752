#!/usr/bin/env python3
"""PyTorch oracle for @ragrpo/reward's computeAdvantages: TRL's GRPOTrainer advantage code.

`trl_advantages` below re-types the advantage block of trl/trainer/grpo_trainer.py
(`_generate_and_score_completions`, TRL 1.x: multi_objective_aggregation, the unscorable mask and
nan_to_num) and trl.trainer.utils.nanstd, as tensor code; TRL itself is not imported (it is not a
Debian package). Rewards are float64 here (TRL keeps them float32) so the TypeScript float64 values
can be compared within 1e-6.

Needs Debian's python3-torch (/usr/bin/python3). Run from the repository root:
    /usr/bin/python3 tools/reference/reward_advantage_fixtures.py
writes packages/reward/test/fixtures/advantages.json. Test-only.
"""
import json
import math
import os

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "packages", "reward", "test", "fixtures", "advantages.json")
NAN = float("nan")


def nanstd(tensor, dim=None, keepdim=False):
    """trl.trainer.utils.nanstd: Bessel-corrected; NaN where fewer than two values."""
    mean = torch.nanmean(tensor, dim=dim, keepdim=True) if dim is not None else torch.nanmean(tensor).reshape([1] * tensor.ndim)
    variance = (torch.nanmean((tensor - mean) ** 2, dim=dim, keepdim=True) if dim is not None
                else torch.nanmean((tensor - mean) ** 2).reshape([1] * tensor.ndim))
    count = (torch.sum(~torch.isnan(tensor), dim=dim, keepdim=True) if dim is not None
             else torch.sum(~torch.isnan(tensor)).reshape([1] * tensor.ndim))
    # TRL divides the int64 counts as they are, which gives a float32 correction factor; cast to the
    # rewards' dtype so the float64 oracle carries no float32 rounding (only the precision differs).
    count = count.to(tensor.dtype)
    correction = count / (count - 1)
    correction = torch.where(count > 1, correction, torch.full_like(correction, float("nan")))
    variance = variance * correction
    std = torch.sqrt(variance)
    if keepdim:
        return std
    if dim is None:
        return std.squeeze()
    return std.squeeze(dim)


def trl_advantages(rewards_per_func, reward_weights, num_generations, scale_rewards, multi_objective_aggregation):
    """rewards_per_func: [N, K] with NaN for None. Returns TRL's advantages and logged metrics."""
    n_funcs = rewards_per_func.shape[1]
    unscorable_mask = torch.isnan(rewards_per_func).all(dim=1)

    if multi_objective_aggregation == "sum_then_normalize":
        rewards = (rewards_per_func * reward_weights.unsqueeze(0)).nansum(dim=1)
        rewards[unscorable_mask] = torch.nan
        mean_grouped_rewards = torch.nanmean(rewards.view(-1, num_generations), dim=1)
        mean_grouped_rewards = mean_grouped_rewards.repeat_interleave(num_generations, dim=0)
        if scale_rewards in ["group", "none"]:
            if num_generations > 1:
                std_rewards = nanstd(rewards.view(-1, num_generations), dim=1)
                std_rewards = std_rewards.repeat_interleave(num_generations, dim=0)
            else:
                std_rewards = torch.zeros_like(rewards)
        elif scale_rewards == "batch":
            if rewards.numel() > 1:
                std_rewards = nanstd(rewards).expand_as(rewards)
            else:
                std_rewards = torch.zeros_like(rewards)
        else:
            raise ValueError(scale_rewards)
        advantages = rewards - mean_grouped_rewards
        if scale_rewards != "none":
            advantages = advantages / (std_rewards + 1e-4)
        is_std_zero = torch.isclose(std_rewards, torch.zeros_like(std_rewards))
    elif multi_objective_aggregation == "normalize_then_sum":
        grouped = rewards_per_func.view(-1, num_generations, n_funcs)
        mean_k = torch.nanmean(grouped, dim=1, keepdim=True)
        std_k = nanstd(grouped, dim=1, keepdim=True) if num_generations > 1 else torch.zeros_like(mean_k)
        reward_k = (grouped - mean_k) / (std_k + 1e-4)
        reward_k = reward_k.view(-1, n_funcs)
        rewards = (reward_k * reward_weights.unsqueeze(0)).nansum(dim=1)
        rewards[unscorable_mask] = torch.nan
        std_rewards = nanstd(rewards).expand_as(rewards) if rewards.numel() > 1 else torch.zeros_like(rewards)
        advantages = (rewards - torch.nanmean(rewards)) / (std_rewards + 1e-4)
        is_std_zero = torch.isclose(std_rewards, torch.zeros_like(std_rewards))
    else:
        raise ValueError(multi_objective_aggregation)

    advantages = torch.nan_to_num(advantages, nan=0.0)
    group_std_rewards = nanstd(rewards.view(-1, num_generations), dim=1)

    per_function = [{"mean": torch.nanmean(rewards_per_func[:, i]).item(), "std": nanstd(rewards_per_func[:, i]).item()}
                    for i in range(n_funcs)]
    logged = (rewards_per_func * reward_weights.unsqueeze(0)).nansum(dim=1)
    logged[unscorable_mask] = torch.nan
    return {
        "total": logged.tolist(),
        "advantages": advantages.tolist(),
        "groupStd": group_std_rewards.tolist(),
        "fracZeroStd": is_std_zero.float().mean().item(),
        "perFunction": per_function,
        "reward": torch.nanmean(logged).item(),
        "rewardStd": nanstd(logged).item(),
    }


# rewards are [function][completion], as computeAdvantages takes them; None = the reward did not apply.
CASES = [
    ("two groups, two rewards, weights, group scaling", 4, [1.0, 0.5], "group", "sum_then_normalize",
     [[0.9, 0.1, 0.5, 0.3, 1.0, 0.0, 0.0, 1.0], [1, 0, 1, 1, 0, 0, 1, 1]]),
    ("null rewards and an unscorable completion", 4, [1.0, 2.0], "group", "sum_then_normalize",
     [[0.8, None, 0.2, None, 0.5, 0.7, None, 0.1], [1, 0, None, None, 1, None, 0, 1]]),
    ("a zero-std group beside a varied one", 3, None, "group", "sum_then_normalize",
     [[0.5, 0.5, 0.5, 0.2, 0.9, 0.4]]),
    ("batch scaling", 4, [1.0, 1.0], "batch", "sum_then_normalize",
     [[0.9, 0.1, 0.5, 0.3, 1.0, 1.0, 1.0, 1.0], [0.0, 0.2, 0.4, 0.6, 0.1, 0.1, 0.1, 0.1]]),
    ("no scaling (Dr. GRPO)", 4, None, "none", "sum_then_normalize",
     [[0.9, 0.1, 0.5, 0.3, 0.7, 0.7, 0.7, 0.7]]),
    ("batch scaling with nulls", 2, [0.5], "batch", "sum_then_normalize",
     [[1.0, None, 0.25, 0.75, None, None]]),
    ("a group with one scorable completion", 3, None, "group", "sum_then_normalize",
     [[0.4, None, None, 0.1, 0.2, 0.9]]),
    ("group size 1", 1, None, "group", "sum_then_normalize",
     [[0.3, 0.6, 0.9]]),
    ("normalize_then_sum, weights and nulls", 4, [1.0, 0.5, 2.0], "group", "normalize_then_sum",
     [[0.9, 0.1, 0.5, 0.3, 1.0, 0.0, None, 1.0],
      [1, 0, 1, 1, 0.5, 0.5, 0.5, 0.5],
      [None, 3.0, 7.0, 5.0, 2.0, 8.0, 4.0, None]]),
    ("normalize_then_sum, an unscorable completion and a constant group", 3, None, "batch", "normalize_then_sum",
     [[0.2, 0.2, 0.2, 0.1, None, 0.7], [1, 1, 1, 0, None, 1]]),
    ("normalize_then_sum, group size 1", 1, [1.0, 1.0], "group", "normalize_then_sum",
     [[0.3, 0.6, 0.9], [1, 0, 1]]),
    ("all equal everywhere (every std zero)", 2, None, "batch", "sum_then_normalize",
     [[0.5, 0.5, 0.5, 0.5]]),
]


def clean(v):
    """NaN -> None so the file is JSON."""
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, list):
        return [clean(x) for x in v]
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    return v


def main():
    cases = []
    for name, g, weights, scale, agg, rewards in CASES:
        k = len(rewards)
        x = torch.tensor([[NAN if r[i] is None else float(r[i]) for r in rewards] for i in range(len(rewards[0]))],
                         dtype=torch.float64)
        w = torch.tensor(weights if weights is not None else [1.0] * k, dtype=torch.float64)
        out = trl_advantages(x, w, g, scale, agg)
        cases.append(clean({"name": name, "groupSize": g, "weights": weights, "scaleRewards": scale,
                            "aggregation": agg, "rewards": rewards, "expected": out}))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"generator": "tools/reference/reward_advantage_fixtures.py", "torch": torch.__version__, "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.relpath(OUT, ROOT)} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
