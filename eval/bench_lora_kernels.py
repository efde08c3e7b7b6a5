"""Mixed-adapter LoRA kernels at decode, on SmolLM2-135M's module shapes: which layout to keep.

    OMP_NUM_THREADS=1 python eval/bench_lora_kernels.py [--batch 16] [--ranks 8,8,16,16,16]

One decoder layer's 7 linear modules (q, k, v, o, gate, up, down) at one token per row, random weights,
``--ranks`` adapters (the demo: chat and blog of rank 8, three cat blends of rank 16), rows assigned to the
adapters in turn. Each way computes base(x) + every row's own adapter delta:

  base      the base linear alone (the floor)
  concat    x @ A_all^T, times a per-row column mask, @ B_all (what multilora.py does)
  group     rows sorted by adapter, one matmul pair per adapter segment (what PEFT's adapter_names does,
            without its hooks)
  gather    A[idx], B[idx] gathered per row, then two bmm (the S-LoRA / Punica layout in plain torch)
  einsum    the gather with einsum instead of bmm
Times are per layer, the best of 3 rounds of ~1.5 s each (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date
from itertools import pairwise

import torch
from torch.nn import functional as F

SHAPES = [(576, 576), (576, 192), (576, 192), (576, 576), (576, 1536), (576, 1536), (1536, 576)]  # (in, out)


def make_modules(ranks: list[int]):
    total, rmax = sum(ranks), max(ranks)
    offsets = [sum(ranks[:i]) for i in range(len(ranks) + 1)]
    modules = []
    for fan_in, fan_out in SHAPES:
        weight = torch.randn(fan_out, fan_in) / fan_in ** 0.5
        a_all, b_all = torch.randn(total, fan_in) * 0.01, torch.randn(total, fan_out) * 0.01
        a_stack, b_stack = torch.zeros(len(ranks) + 1, fan_in, rmax), torch.zeros(len(ranks) + 1, rmax, fan_out)
        for k, (lo, hi) in enumerate(pairwise(offsets)):  # entry 0 stays zero: rows without an adapter
            a_stack[k + 1, :, :hi - lo] = a_all[lo:hi].T
            b_stack[k + 1, :hi - lo] = b_all[lo:hi]
        modules.append({"w": weight, "a": a_all, "b": b_all, "a_stack": a_stack, "b_stack": b_stack})
    return modules, offsets


def ways(batch: int, ranks: list[int], offsets: list[int]):
    index = torch.tensor([i % len(ranks) for i in range(batch)])
    mask = torch.zeros(batch, 1, offsets[-1])
    for row, k in enumerate(index.tolist()):
        mask[row, 0, offsets[k]:offsets[k + 1]] = 1
    segments = [(k, (index == k).nonzero().flatten()) for k in range(len(ranks))]

    def base(x, m):
        return F.linear(x, m["w"])

    def concat(x, m):
        return F.linear(x, m["w"]) + (F.linear(x, m["a"]) * mask) @ m["b"]

    def group(x, m):
        out = F.linear(x, m["w"])
        for k, rows in segments:
            lo, hi = offsets[k], offsets[k + 1]
            out[rows] += F.linear(x[rows], m["a"][lo:hi]) @ m["b"][lo:hi]
        return out

    def gather(x, m):
        return F.linear(x, m["w"]) + torch.bmm(torch.bmm(x, m["a_stack"][index + 1]), m["b_stack"][index + 1])

    def einsum(x, m):
        low = torch.einsum("bsi,bir->bsr", x, m["a_stack"][index + 1])
        return F.linear(x, m["w"]) + torch.einsum("bsr,bro->bso", low, m["b_stack"][index + 1])

    return {"base": base, "concat": concat, "group": group, "gather": gather, "einsum": einsum}


def per_layer_ms(fn, modules, inputs, seconds: float = 1.5) -> float:
    with torch.inference_mode():
        for m in modules:
            fn(inputs[m["w"].shape[1]], m)
        runs, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for m in modules:
                fn(inputs[m["w"].shape[1]], m)
            runs += 1
        return (time.perf_counter() - start) / runs * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--ranks", default="8,8,16,16,16")
    args = parser.parse_args()
    torch.manual_seed(0)
    ranks = [int(r) for r in args.ranks.split(",")]
    modules, offsets = make_modules(ranks)
    inputs = {fan_in: torch.randn(args.batch, 1, fan_in) for fan_in in {s[0] for s in SHAPES}}
    print(f"# bench_lora_kernels {date.today()} · {os.cpu_count()} cores · torch threads {torch.get_num_threads()} · "
          f"batch {args.batch} x 1 token · adapters of rank {args.ranks}")
    candidates = ways(args.batch, ranks, offsets)
    best = {name: min(per_layer_ms(fn, modules, inputs) for _ in range(3)) for name, fn in candidates.items()}
    print("| way | ms per layer (7 modules) | vs base |\n|---|---:|---:|")
    for name, ms in best.items():
        print(f"| {name} | {ms:.2f} | {ms / best['base']:.2f}x |")


if __name__ == "__main__":
    main()
