#!/usr/bin/python3
"""PyTorch CPU reference for the engine benchmark's training step (tools/bench/engine.ts, item 3).

Same model and ops as @ragrpo/model's graph: token embedding, pre-norm block(s) (RMSNorm, causal attention with
RoPE as explicit matmul + additive mask + softmax, SwiGLU MLP), final RMSNorm, LM head on every position,
log-softmax, log p(target) gathered, loss = -sum(w * logp). float32, every weight trained. One step is
forward + backward + zero_grad. Prints one JSON line: {"torch", "blas", "threads": {"1": {...}}, "best": {...}}.

Debian's torch does its GEMMs through the system libblas.so.3: with only the reference (netlib) BLAS installed
it runs ~30x slower, so install libopenblas0-pthread first; `blas` names the library actually loaded. OpenBLAS
sizes its own thread pool from OPENBLAS_NUM_THREADS, which torch.set_num_threads does not change: run one
thread count per process with that variable set (engine.ts does).

    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 tools/bench/torch_step.py --threads 2
"""
import argparse
import json
import statistics
import time

import torch


def build(a, gen):
    d, V, I = a.hidden, a.vocab, a.mlp

    def p(*shape, std=0.02):
        return torch.nn.Parameter(torch.randn(*shape, generator=gen) * std)

    params = {"embed": p(V, d), "norm": torch.nn.Parameter(torch.ones(d)), "lm_head": p(V, d)}
    for l in range(a.layers):
        params.update({
            f"{l}.ln1": torch.nn.Parameter(torch.ones(d)), f"{l}.ln2": torch.nn.Parameter(torch.ones(d)),
            f"{l}.q": p(d, d), f"{l}.k": p(d, d), f"{l}.v": p(d, d), f"{l}.o": p(d, d),
            f"{l}.gate": p(I, d), f"{l}.up": p(I, d), f"{l}.down": p(d, I),
        })
    return params


def loaded_blas():
    """The BLAS shared libraries mapped into this process (after torch has loaded)."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.split()[-1].lower()}
    return sorted(libs)


def rms_norm(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def step(P, a, ids, targets, weights, cos, sin, mask):
    B, T, H = a.batch, a.seq, a.heads
    hd = a.hidden // H
    half = hd // 2
    F = torch.nn.functional

    def rope(x):
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)

    def heads(t):
        return t.view(B, T, H, hd).transpose(1, 2)

    h = P["embed"][ids]
    for l in range(a.layers):
        x = rms_norm(h, P[f"{l}.ln1"])
        q = rope(heads(F.linear(x, P[f"{l}.q"])))
        k = rope(heads(F.linear(x, P[f"{l}.k"])))
        v = heads(F.linear(x, P[f"{l}.v"]))
        scores = torch.matmul(q, k.transpose(2, 3)) * (hd ** -0.5) + mask
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v)
        h = h + F.linear(ctx.transpose(1, 2).reshape(B, T, H * hd), P[f"{l}.o"])
        y = rms_norm(h, P[f"{l}.ln2"])
        h = h + F.linear(F.silu(F.linear(y, P[f"{l}.gate"])) * F.linear(y, P[f"{l}.up"]), P[f"{l}.down"])
    logits = F.linear(rms_norm(h, P["norm"]), P["lm_head"])
    logp = torch.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    loss = -(weights * logp).sum()
    loss.backward()
    for t in P.values():
        t.grad = None  # zero_grad(set_to_none=True), torch 2's default
    return loss.item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--mlp", type=int, default=768)
    ap.add_argument("--vocab", type=int, default=2048)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--threads", type=str, default="1,2")
    a = ap.parse_args()

    gen = torch.Generator().manual_seed(0)
    P = build(a, gen)
    B, T, hd = a.batch, a.seq, a.hidden // a.heads
    ids = torch.randint(0, a.vocab, (B, T), generator=gen)
    targets = torch.randint(0, a.vocab, (B, T), generator=gen)
    weights = torch.full((B, T), 1.0 / (B * T))
    inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
    cos, sin = ang.cos().float(), ang.sin().float()
    mask = torch.triu(torch.full((T, T), -1e9), diagonal=1)

    result = {"torch": torch.__version__, "blas": loaded_blas(), "threads": {}}
    for n in [int(x) for x in a.threads.split(",")]:
        torch.set_num_threads(n)
        for _ in range(a.warmup):
            step(P, a, ids, targets, weights, cos, sin, mask)
        times = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            step(P, a, ids, targets, weights, cos, sin, mask)
            times.append((time.perf_counter() - t0) * 1000)
        result["threads"][str(n)] = {"median_ms": statistics.median(times), "min_ms": min(times), "runs_ms": times}
    best = min(result["threads"], key=lambda k: result["threads"][k]["median_ms"])
    result["best"] = {"threads": int(best), **result["threads"][best]}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
