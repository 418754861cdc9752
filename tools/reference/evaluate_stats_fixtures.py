#!/usr/bin/env python3
"""Independent oracle for @ragrpo/evaluate's statistics and seed 004's preference arithmetic.

Computes, without any ragrpo code:
  - the two-sided exact sign-test p-value (scipy.stats.binomtest when scipy is there, and always
    the binomial sum with math.comb; the two are checked equal);
  - the exact percentile bootstrap interval of tiny samples, by enumerating all n^n resamples
    (itertools.product) and taking numpy's default (linear) quantiles, also re-done in pure Python;
  - a normal-approximation interval (mean +- z * sd / sqrt(n), sd with ddof=0 as the bootstrap's
    plug-in) of a larger sample, which the Monte Carlo bootstrap must approach;
  - seed 004's cut_off (copied from the notebook) on hand-made multi-turn pairs;
  - seed 004's prediction rule on hand-made scores, with log loss (sklearn.metrics.log_loss when
    sklearn is there, checked against the formula) and accuracy.

Debian: apt-get install python3-numpy python3-scipy (optional: python3-sklearn). Pure Python
fallbacks run without them. From the repository root:
    python3 tools/reference/evaluate_stats_fixtures.py
writes packages/evaluate/test/fixtures/{stats,preference}.json. Test-only.
"""
import itertools
import json
import math
import os
import random
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "packages", "evaluate", "test", "fixtures")

try:
    import numpy as np
except ImportError:  # pragma: no cover
    np = None
try:
    from scipy.stats import binomtest
except ImportError:  # pragma: no cover
    binomtest = None
try:
    from sklearn.metrics import log_loss as sk_log_loss
except ImportError:  # pragma: no cover
    sk_log_loss = None


# ---------------------------------------------------------------- sign test

def sign_test_p(pos, neg):
    n = pos + neg
    if n == 0:
        return 1.0
    k = min(pos, neg)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    p = min(1.0, 2 * tail)
    if binomtest is not None:
        sp = binomtest(k, n, 0.5, alternative="two-sided").pvalue
        assert abs(sp - p) <= 1e-12 * max(1.0, p), (pos, neg, sp, p)
    return p


# ---------------------------------------------------------------- bootstrap

def linear_quantile(sorted_xs, q):
    n = len(sorted_xs)
    h = (n - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    return sorted_xs[lo] + (h - lo) * (sorted_xs[hi] - sorted_xs[lo])


def exact_bootstrap(values, confidence):
    n = len(values)
    means = sorted(sum(values[i] for i in idx) / n for idx in itertools.product(range(n), repeat=n))
    alpha = (1 - confidence) / 2
    lo, hi = linear_quantile(means, alpha), linear_quantile(means, 1 - alpha)
    if np is not None:
        arr = np.array(means)
        nlo, nhi = np.quantile(arr, [alpha, 1 - alpha])
        assert abs(nlo - lo) < 1e-12 and abs(nhi - hi) < 1e-12
    return {"mean": sum(values) / n, "ci_low": lo, "ci_high": hi}


def normal_interval(values, confidence):
    n = len(values)
    m = sum(values) / n
    sd = math.sqrt(sum((x - m) ** 2 for x in values) / n)
    # z quantile of the standard normal by bisection on erf (no scipy needed)
    target = 1 - (1 - confidence) / 2
    lo, hi = 0.0, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < target:
            lo = mid
        else:
            hi = mid
    z = (lo + hi) / 2
    se = sd / math.sqrt(n)
    return {"mean": m, "ci_low": m - z * se, "ci_high": m + z * se, "se": se, "z": z}


def stats_fixtures():
    sign = [{"positive": p, "negative": q, "p_value": sign_test_p(p, q)}
            for p, q in [(0, 0), (1, 0), (3, 0), (5, 1), (6, 2), (7, 7), (10, 3), (2, 12), (40, 25), (300, 250)]]
    tiny = [
        [0.0, 1.0, 0.5],
        [0.2, 0.9, 0.4, 0.7],
        [1.0, 0.0, 0.0, 1.0, 1.0],
        [0.12, -0.3, 0.05, 0.4, 0.0],
    ]
    exact = [{"values": v, "confidence": c, **exact_bootstrap(v, c)} for v in tiny for c in (0.95, 0.8)]
    # A paired case: the difference's interval is the exact bootstrap of after - before.
    before = [0.2, 0.5, 0.1, 0.4]
    after = [0.6, 0.5, 0.3, 0.2]
    diffs = [a - b for a, b in zip(after, before)]
    paired = {"before": before, "after": after, **exact_bootstrap(diffs, 0.95),
              "p_value": sign_test_p(sum(d > 0 for d in diffs), sum(d < 0 for d in diffs))}
    rng = random.Random(20240819)
    large = [round(rng.betavariate(2, 5), 6) for _ in range(400)]
    normal = {"values": large, "confidence": 0.95, **normal_interval(large, 0.95)}
    return {"sign_test": sign, "exact_bootstrap": exact, "paired": paired, "normal": normal}


# ---------------------------------------------------------------- seed 004

def cut_off(example, max_length=7200):
    """Seed 004's cut_off, verbatim but for the dict copy."""
    example = {k: list(v) for k, v in example.items()}

    def _count(example, idx):
        _len = 0
        for s in example['prompt'][:idx] + example['response_a'][:idx] + example['response_b'][:idx]:
            _len += len(s)
        return _len

    def _recusive_cut(idx):
        if idx == 0:
            example['prompt'] = [example['prompt'][0][:1000]]
            example['response_a'] = [example['response_a'][0][:3000]]
            example['response_b'] = [example['response_b'][0][:3000]]
            return example
        if _count(example, idx) > max_length:
            return _recusive_cut(idx - 1)
        else:
            example['prompt'] = example['prompt'][:idx]
            example['response_a'] = example['response_a'][:idx]
            example['response_b'] = example['response_b'][:idx]
            return example
    return _recusive_cut(len(example['prompt']))


def predict(s1, s2, thr=0.08):
    """Seed 004's inference rule (None = the except branch); a negative shifted probability held at 0."""
    if s1 is None or s2 is None:
        return [0.33334, 0.33333, 0.33333]
    if abs(s1 - s2) < thr:
        return [0.00005, 0.00005, 0.9999]
    m = max(s1, s2)
    e1, e2 = math.exp(s1 - m), math.exp(s2 - m)
    total = e1 + e2
    return [max(e1 / total - 0.0001, 0.0), max(e2 / total - 0.0001, 0.0), 0.0002]


def log_loss(labels, preds, eps=sys.float_info.epsilon):
    classes = ["model_a", "model_b", "tie"]
    total = 0.0
    for y, p in zip(labels, preds):
        c = [min(max(x, eps), 1 - eps) for x in p]
        s = sum(c)
        total -= math.log(c[classes.index(y)] / s)
    return total / len(labels)


def preference_fixtures():
    long_a = "A" * 2500
    long_b = "B" * 2600
    cut_cases = [
        {"prompt": ["hi", "and then?"], "response_a": ["hello", "more"], "response_b": ["hey", "less"], "max_chars": 7200},
        {"prompt": ["p1" * 10, "p2" * 10, "p3" * 10], "response_a": ["a" * 30, "a" * 30, "a" * 30], "response_b": ["b" * 30, "b" * 30, "b" * 30], "max_chars": 200},
        {"prompt": ["q" * 900, "r" * 50], "response_a": [long_a, "x"], "response_b": [long_b, "y"], "max_chars": 7200},
        {"prompt": ["q" * 1500], "response_a": ["a" * 4000], "response_b": ["b" * 3500], "max_chars": 7200},
        {"prompt": ["ü" * 10, "é" * 10], "response_a": ["日本" * 5, "x" * 20], "response_b": ["ß" * 10, "y" * 20], "max_chars": 50},
    ]
    cuts = []
    for c in cut_cases:
        ex = {k: c[k] for k in ("prompt", "response_a", "response_b")}
        out = cut_off(ex, c["max_chars"])
        cuts.append({**c, "expected": out})
    # Hand-made scores: decided pairs, ties either side of the threshold, a scorer failure, a huge gap.
    pairs = [
        ("p1", 1.30, 0.20, "model_a"),
        ("p2", -0.40, 0.90, "model_b"),
        ("p3", 0.50, 0.45, "tie"),
        ("p4", 0.50, 0.421, "model_a"),   # gap 0.079: a tie is predicted, the label says a
        ("p5", 0.50, 0.419, "model_a"),   # gap 0.081: decided for a
        ("p6", None, 0.7, "model_b"),     # the scorer failed: uniform
        ("p7", 12.0, 0.0, "model_b"),     # a huge gap, and wrong: b's probability is held at 0
        ("p8", 2.0, 2.5, "tie"),
        ("p9", 0.0, 0.0, "tie"),
        ("p10", 3.0, 1.0, None),          # unlabelled: predicted, not in the metrics
    ]
    preds = [predict(a, b) for _, a, b, _ in pairs]
    labelled = [(p, y) for p, (_, _, _, y) in zip(preds, pairs) if y is not None]
    ll = log_loss([y for _, y in labelled], [p for p, _ in labelled])
    if sk_log_loss is not None:
        sk = sk_log_loss([y for _, y in labelled], [p for p, _ in labelled], labels=["model_a", "model_b", "tie"])
        assert abs(sk - ll) < 1e-9, (sk, ll)
    classes = ["model_a", "model_b", "tie"]
    acc = sum(classes[max(range(3), key=lambda k: (p[k], -k))] == y for p, y in labelled) / len(labelled)
    return {
        "cut_off": cuts,
        "tie_threshold": 0.08,
        "pairs": [{"id": i, "score_a": a, "score_b": b, "winner": y, "prediction": p} for (i, a, b, y), p in zip(pairs, preds)],
        "log_loss": ll,
        "accuracy": acc,
        "labelled": len(labelled),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "stats.json"), "w") as f:
        json.dump(stats_fixtures(), f, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, "preference.json"), "w") as f:
        json.dump(preference_fixtures(), f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {OUT}/stats.json and preference.json (numpy {np is not None}, scipy {binomtest is not None}, sklearn {sk_log_loss is not None})")


if __name__ == "__main__":
    main()
