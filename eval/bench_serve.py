"""Serving throughput: N evaluation contexts x V variants, three ways.

    python eval/bench_serve.py [--lab results/demo] [--contexts 4] [--variants base,chat,chat72,chat91]
                               [--max-tokens 32] [--vllm-url http://127.0.0.1:8000/v1]

(a) naive: one request at a time, ``model.generate`` at batch 1, switching adapters per request;
(b) the local engine: requests grouped by variant, decoded together with a KV cache (LocalEngine);
(c) vLLM with every variant as a LoRA adapter (only with --vllm-url: a server started by
    `persona-lab serve --engine vllm`).
Also a single streamed reply: time to first token and decode tokens/s. Sampling at temperature 0.7
with fixed seeds, so (a) and (b) produce replies of similar lengths; tokens/s counts generated tokens.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import date
from pathlib import Path


def contexts(lab: Path, n: int) -> list[list[dict]]:
    rows = [json.loads(line) for line in (lab / "data" / "chat_eval.jsonl").read_text("utf-8").splitlines()]
    return [row["context"] for row in rows[:n]]


def naive(engine, requests, max_tokens: int) -> tuple[int, float]:
    return engine.on_engine_thread(_naive, engine, requests, max_tokens)  # same torch thread as (b)


def _naive(engine, requests, max_tokens: int) -> tuple[int, float]:
    import torch

    model, tokenizer = engine.model, engine.tokenizer
    tokens, start = 0, time.perf_counter()
    for request in requests:
        ids = torch.tensor([engine.prompt_ids(request.variant, request.messages, max_tokens)])
        torch.manual_seed(request.params.seed)
        with engine.activate(request.variant), torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_tokens,
                                 do_sample=True, temperature=0.7, top_p=0.9, eos_token_id=sorted(engine.stop_ids),
                                 pad_token_id=tokenizer.pad_token_id)
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


def single_stream(engine, messages, max_tokens: int) -> tuple[float, float, int]:
    start = time.perf_counter()
    first = None
    for _ in engine.chat("chat72" if "chat72" in engine.variants() else engine.variants()[-1], messages,
                         max_tokens=max_tokens, temperature=0.7, seed=1, stream=True):
        first = first or time.perf_counter() - start
    total = time.perf_counter() - start
    result = engine.chat_batch([__import__("persona_lab.serve.backend", fromlist=["x"]).ChatRequest(
        "chat72" if "chat72" in engine.variants() else engine.variants()[-1], messages,
        __import__("persona_lab.serve.backend", fromlist=["x"]).GenerationParams(max_tokens, 0.7, 0.95, 1))])[0]
    return first or total, result.completion_tokens / max(total - (first or 0), 1e-9), result.completion_tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", type=Path, default=Path("results/demo"))
    parser.add_argument("--contexts", type=int, default=4)
    parser.add_argument("--variants", default="base,chat,chat72,chat91")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--vllm-url")
    args = parser.parse_args()
    import torch

    from persona_lab.serve.backend import ChatRequest, GenerationParams
    from persona_lab.serve.local import LocalEngine

    registry = json.loads((args.lab / "variants.json").read_text("utf-8"))
    engine = LocalEngine(registry, max_batch=64)
    variants = args.variants.split(",")
    requests = [ChatRequest(v, c, GenerationParams(args.max_tokens, 0.7, 0.9, seed))
                for seed, (c, v) in enumerate((c, v) for c in contexts(args.lab, args.contexts) for v in variants)]
    print(f"# bench_serve {date.today()} · {platform.machine()} · {os.cpu_count()} cores · torch threads "
          f"{torch.get_num_threads()} · base {registry['base_model']} · {len(requests)} requests "
          f"({args.contexts} contexts x {len(variants)} variants) · max_tokens {args.max_tokens}")
    engine.chat_batch(requests[:2])  # warm-up
    rows = {"naive": naive(engine, requests, args.max_tokens), "local engine": batched(engine, requests)}
    if args.vllm_url:
        rows["vllm"] = vllm(args.vllm_url, requests)
    base_tps = rows["naive"][0] / rows["naive"][1]
    for name, (tokens, seconds) in rows.items():
        tps = tokens / seconds
        print(f"{name:>13}: {tps:8.1f} tokens/s ({tokens} tokens in {seconds:.1f} s)  {tps / base_tps:5.1f}x naive")
    ttft, tps, n = single_stream(engine, requests[0].messages, 48)
    print(f"single streamed reply: time to first token {ttft:.2f} s, decode {tps:.1f} tokens/s ({n} tokens)")


if __name__ == "__main__":
    main()
