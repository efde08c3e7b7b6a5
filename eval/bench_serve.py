"""Serving throughput on SmolLM2-135M, every way in one run (so the ratios are comparable).

    OMP_NUM_THREADS=1 python eval/bench_serve.py [--lab results/demo] [--requests 16]
        [--variants base,chat,chat72,chat91] [--max-tokens 32] [--vllm-url http://127.0.0.1:8000/v1]

16 requests: 16 different held-out contexts, the variants taken in turn (so no two requests share a prompt
and the base-only batch has the same prompts' lengths). Every reply runs to max_tokens (end-of-reply tokens
ignored), so every way does the same work; sampling at temperature 0.7, top-p 0.9, fixed seeds.

(a) naive: ``model.generate`` at batch 1, the adapter switched per request (PEFT);
(b) the base model alone, the 16 requests as base-model requests, one batch (local engine);
(c) 16 requests over the variants in one mixed batch, stacked multi-LoRA (local engine);
(d) the same on PEFT's mixed-adapter routing (``LocalEngine(lora="peft")``, same scheduler);
(d') the same on today's engine (persona_lab/serve/local.py at ``--baseline``, loaded from git);
(e) vLLM with every variant as a LoRA adapter (only with --vllm-url: a server started by
    `persona-lab serve --engine vllm`; it stops at end-of-reply tokens, so its token count may be lower).
Also the machine's fp32 matmul GFLOP/s (1024^3, and the decode shape 16 x 576 x 1536) and the share of it
that (c) reaches, counting 2 x parameters FLOPs per token (prompt and generated; attention not counted), and a
single streamed reply: time to first token and decode tokens/s, new engine against today's.
(b), (c) and (d) run twice, interleaved; the faster of the two is kept (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import types
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "df93202"  # main when issue 16 started: PEFT adapter_names routing, static batches


def module_at(rev: str, path: str, name: str, patches: dict[str, str] | None = None) -> types.ModuleType:
    """A module as it was at git revision ``rev`` (today's code, to measure against in the same run).
    ``patches`` replace lines of its source (imports of names that have moved since, never its logic)."""
    source = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout
    for old, new in (patches or {}).items():
        if old not in source:
            raise ValueError(f"{rev}:{path}: no line {old!r} to patch")
        source = source.replace(old, new)
    module = types.ModuleType(name)
    module.__file__ = f"{rev}:{path}"
    sys.modules[name] = module  # dataclasses look their module up
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102 - our own code at a revision
    return module


def contexts(lab: Path, n: int) -> list[list[dict]]:
    rows = [json.loads(line) for line in (lab / "data" / "chat_eval.jsonl").read_text("utf-8").splitlines()]
    return [row["context"] for row in rows[:n]]


def matmul_gflops(m: int, k: int, n: int, seconds: float = 2.0) -> float:
    import torch

    a, b = torch.randn(m, k), torch.randn(k, n)
    torch.mm(a, b)
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.mm(a, b)
        runs += 1
    return 2 * m * k * n * runs / (time.perf_counter() - start) / 1e9


def naive(engine, requests) -> tuple[int, float]:
    return engine.on_engine_thread(_naive, engine, requests)  # same torch thread as the batches


def _naive(engine, requests) -> tuple[int, float]:
    import torch

    model, tokenizer = engine.model, engine.tokenizer
    tokens, start = 0, time.perf_counter()
    for request in requests:
        n = request.params.max_tokens
        ids = torch.tensor([engine.prompt_ids(request.variant, request.messages, n)])
        torch.manual_seed(request.params.seed)
        with engine.activate(request.variant), torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=n,
                                 min_new_tokens=n, do_sample=True, temperature=0.7, top_p=0.9,
                                 eos_token_id=sorted(engine.stop_ids), pad_token_id=tokenizer.pad_token_id)
        tokens += out.shape[1] - ids.shape[1]
    return tokens, time.perf_counter() - start


def batched(engine, requests) -> tuple[int, float]:
    start = time.perf_counter()
    results = engine.chat_batch(requests)
    return sum(r.completion_tokens for r in results), time.perf_counter() - start


def vllm(url: str, requests) -> tuple[int, float]:
    from persona_lab.serve.openai_backend import OpenAIBackend

    backend = OpenAIBackend(url, sorted({r.variant for r in requests}))
    start = time.perf_counter()
    results = backend.chat_batch(requests)
    return sum(r.completion_tokens for r in results), time.perf_counter() - start


def single_stream(engine, request) -> tuple[float, float]:
    """Time to the first streamed text and decode tokens/s after it (the reply runs to max_tokens)."""
    from persona_lab.serve.backend import stream_results

    start, first = time.perf_counter(), None
    for _ in stream_results(engine, [request]):
        first = first or time.perf_counter() - start
    total = time.perf_counter() - start
    return first or total, (request.params.max_tokens - 1) / max(total - (first or 0), 1e-9)


def flops_per_request(engine, request) -> float:
    """2 x parameters per token: the body for every prompt and generated token, the lm_head once per
    generated token (logits_to_keep=1)."""
    from torch import nn

    head = engine.model.get_output_embeddings().weight.numel()
    body = sum(m.weight.numel() for m in engine.model.modules() if type(m) is nn.Linear) - head
    prompt = len(engine.prompt_ids(request.variant, request.messages, request.params.max_tokens))
    generated = request.params.max_tokens
    return 2 * (body * (prompt + generated) + head * generated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", type=Path, default=Path("results/demo"))
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--variants", default="base,chat,chat72,chat91")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--baseline", default=BASELINE, help="git revision of today's engine for (d')")
    parser.add_argument("--vllm-url")
    args = parser.parse_args()
    import torch

    from persona_lab.serve.backend import ChatRequest, GenerationParams
    from persona_lab.serve.local import LocalEngine

    registry = json.loads((args.lab / "variants.json").read_text("utf-8"))
    variants = args.variants.split(",")
    params = [GenerationParams(args.max_tokens, 0.7, 0.9, seed) for seed in range(args.requests)]
    texts = contexts(args.lab, args.requests)
    mixed = [ChatRequest(variants[i % len(variants)], c, p) for i, (c, p) in enumerate(zip(texts, params))]
    base_only = [ChatRequest("base", c, p) for c, p in zip(texts, params)]
    print(f"# bench_serve {date.today()} · {platform.machine()} · {os.cpu_count()} cores · torch threads "
          f"{torch.get_num_threads()} · base {registry['base_model']} · {len(mixed)} requests over "
          f"{len(variants)} variants ({', '.join(variants)}) · max_tokens {args.max_tokens}, end-of-reply ignored")
    peak = {"1024^3": matmul_gflops(1024, 1024, 1024), "16x576x1536": matmul_gflops(16, 576, 1536)}
    print("matmul fp32 GFLOP/s: " + ", ".join(f"{k} {v:.1f}" for k, v in peak.items()))

    today = module_at(args.baseline, "persona_lab/serve/local.py", "persona_lab_serve_local_today")
    engines = {"stacked": LocalEngine(registry, max_batch=args.requests),
               "peft": LocalEngine(registry, max_batch=args.requests, lora="peft"),
               "today": today.LocalEngine(registry, max_batch=args.requests)}
    for engine in engines.values():
        engine.stop_ids = set()  # every reply runs to max_tokens: equal work for every way
        engine.chat_batch(mixed[:4])  # warm-up
    stacked = engines["stacked"]
    rows: dict[str, tuple[int, float]] = {"(a) naive, batch 1, adapter switched per request": naive(stacked, mixed)}
    ways = {"(b) base model alone, batch 16": (stacked, base_only),
            "(c) 16 requests over 4 variants, stacked multi-LoRA": (stacked, mixed),
            "(d) the same, PEFT's mixed-adapter routing": (engines["peft"], mixed)}
    for _ in range(2):
        for name, (engine, requests) in ways.items():
            tokens, seconds = batched(engine, requests)
            rows[name] = min(rows.get(name, (tokens, seconds)), (tokens, seconds), key=lambda r: r[1])
    rows[f"(d') the same, today's engine (main @ {args.baseline})"] = batched(engines["today"], mixed)
    if args.vllm_url:
        rows["(e) vLLM CPU, all variants as LoRAs"] = vllm(args.vllm_url, mixed)

    naive_tps = rows["(a) naive, batch 1, adapter switched per request"][0] / \
        rows["(a) naive, batch 1, adapter switched per request"][1]
    base_tps = rows["(b) base model alone, batch 16"][0] / rows["(b) base model alone, batch 16"][1]
    print("\n| way | tokens/s | vs (a) naive | vs (b) base alone | seconds |\n|---|---:|---:|---:|---:|")
    for name, (tokens, seconds) in rows.items():
        tps = tokens / seconds
        print(f"| {name} | {tps:.1f} | {tps / naive_tps:.2f}x | {tps / base_tps:.2f}x | {seconds:.1f} |")
    flops = sum(flops_per_request(stacked, r) for r in mixed)
    seconds = rows["(c) 16 requests over 4 variants, stacked multi-LoRA"][1]
    print(f"\n(c) does {flops / seconds / 1e9:.1f} GFLOP/s of model arithmetic (2 x params per token, prompt and "
          f"generated): {flops / seconds / 1e9 / peak['1024^3']:.0%} of the 1024^3 matmul rate, "
          f"{flops / seconds / 1e9 / peak['16x576x1536']:.0%} of the decode-shaped one")
    one = ChatRequest("chat72" if "chat72" in variants else variants[-1], texts[0],
                      GenerationParams(48, 0.7, 0.95, 1))
    for name in ("stacked", "today"):
        ttft, tps = single_stream(engines[name], one)
        print(f"single streamed reply ({one.variant}, {name} engine): time to first token {ttft:.2f} s, "
              f"decode {tps:.1f} tokens/s")


if __name__ == "__main__":
    main()
