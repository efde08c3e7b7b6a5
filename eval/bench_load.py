"""A bounded loopback load test of `persona-lab serve`'s HTTP API: R raters chatting at once.

    OMP_NUM_THREADS=1 python eval/bench_load.py [--lab results/demo] [--raters 16] [--turns 3]
        [--max-tokens 32] [--today]

Each rater (a thread with its own HTTP client) sends ``--turns`` streamed chat requests one after another,
the variant changing each turn, to the OpenAI-compatible API served on 127.0.0.1 by this process (nothing
leaves the machine). Replies run to max_tokens (end-of-reply tokens ignored) so every way does the same
work. Reported: time to first token (first non-empty content chunk) p50 / p95 over all requests, tokens/s
per rater (its tokens over its time waiting), and all raters' tokens/s together. ``--today`` also runs the
same load against today's engine and API (persona_lab/serve at the baseline revision: requests batched
in windows, a batch runs to its end before the next starts).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from bench_serve import BASELINE, contexts, module_at


def serve(app) -> tuple[str, object, threading.Thread]:
    import socket

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}/v1", server, thread


def rater(url: str, index: int, turns: int, variants: list[str], context: list[dict], max_tokens: int) -> dict:
    """One rater's turns: (time to first token, seconds, tokens) per request."""
    import httpx

    out = []
    with httpx.Client(timeout=600) as client:
        for turn in range(turns):
            body = {"model": variants[(index + turn) % len(variants)], "messages": context, "stream": True,
                    "max_tokens": max_tokens, "temperature": 0.7, "top_p": 0.9, "seed": index * 100 + turn}
            start, first = time.perf_counter(), None
            with client.stream("POST", f"{url}/chat/completions", json=body) as response:
                response.raise_for_status()
                for line in response.iter_lines():
                    if first is None and line.startswith("data: {") and json.loads(line[6:]).get(
                            "choices", [{}])[0].get("delta", {}).get("content"):
                        first = time.perf_counter() - start
            out.append((first, time.perf_counter() - start, max_tokens))
    return {"requests": out}


def load(url: str, raters: int, turns: int, variants: list[str], texts: list[list[dict]], max_tokens: int) -> dict:
    start = time.perf_counter()
    with ThreadPoolExecutor(raters) as pool:
        results = list(pool.map(lambda i: rater(url, i, turns, variants, texts[i % len(texts)], max_tokens),
                                range(raters)))
    wall = time.perf_counter() - start
    requests = [r for result in results for r in result["requests"]]
    ttfts = sorted(r[0] for r in requests)
    per_rater = [sum(r[2] for r in res["requests"]) / sum(r[1] for r in res["requests"]) for res in results]
    return {"ttft_p50": statistics.median(ttfts), "ttft_p95": ttfts[min(len(ttfts) - 1, round(0.95 * len(ttfts)))],
            "rater_tps_median": statistics.median(per_rater), "rater_tps_min": min(per_rater),
            "total_tps": sum(r[2] for r in requests) / wall, "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", type=Path, default=Path("results/demo"))
    parser.add_argument("--raters", type=int, default=16)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--variants", default="base,chat,blog,chat55,chat72,chat91,prompted")
    parser.add_argument("--today", action="store_true", help="also run today's engine and API (baseline)")
    args = parser.parse_args()
    import torch

    from persona_lab.serve.api import create_app
    from persona_lab.serve.local import LocalEngine

    registry = json.loads((args.lab / "variants.json").read_text("utf-8"))
    variants = args.variants.split(",")
    texts = contexts(args.lab, args.raters)
    print(f"# bench_load {date.today()} · {os.cpu_count()} cores · torch threads {torch.get_num_threads()} · "
          f"{args.raters} raters x {args.turns} streamed turns · max_tokens {args.max_tokens} (end ignored) · "
          f"variants {', '.join(variants)} · loopback")
    ways = {"continuous batching, stacked multi-LoRA": (LocalEngine, create_app)}
    if args.today:
        old_local = module_at(BASELINE, "persona_lab/serve/local.py", "persona_lab_serve_local_today")
        old_api = module_at(BASELINE, "persona_lab/serve/api.py", "persona_lab_serve_api_today")
        ways[f"today (main @ {BASELINE}): 15 ms windows, a batch runs to its end"] = \
            (old_local.LocalEngine, old_api.create_app)
    print("\n| server | TTFT p50 s | TTFT p95 s | tokens/s per rater, median (min) | all raters tokens/s | wall s |"
          "\n|---|---:|---:|---:|---:|---:|")
    for name, (engine_class, make_app) in ways.items():
        engine = engine_class(registry, max_batch=16)
        engine.stop_ids = set()
        engine.chat_batch([])  # loaded
        url, server, thread = serve(make_app(engine, None, max_tokens_cap=512, rate_limit_per_min=10_000))
        load(url, 2, 1, variants, texts, 4)  # warm-up
        r = load(url, args.raters, args.turns, variants, texts, args.max_tokens)
        print(f"| {name} | {r['ttft_p50']:.2f} | {r['ttft_p95']:.2f} | {r['rater_tps_median']:.1f} "
              f"({r['rater_tps_min']:.1f}) | {r['total_tps']:.1f} | {r['wall']:.1f} |", flush=True)
        server.should_exit = True
        thread.join(timeout=10)


if __name__ == "__main__":
    main()
