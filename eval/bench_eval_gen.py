"""The demo evaluation's generation stage, today's path against the new one, in one run.

    OMP_NUM_THREADS=1 python eval/bench_eval_gen.py [--lab results/demo] [--config configs/demo.yaml]
        [--contexts 12]

today: ``generate_missing`` of main at the baseline revision (variant by variant, chunks of 32 requests,
       each a static batch that runs to its longest reply) over today's LocalEngine (PEFT's adapter_names
       routing), both loaded from git;
new:   this checkout's ``generate_missing`` (context by context, every variant and sample together, all
       chunks queued at once) over LocalEngine (stacked multi-LoRA, continuous batching, one prefill per
       distinct prompt).
Both: every variant of the lab's registry x the first N held-out contexts x eval.samples_per_context samples,
with the config's eval.max_tokens and eval.temperature and seeds eval.seed + k, end-of-reply tokens
respected (the real work), replies written to temporary folders. Replies are sampled, so the two paths'
replies match where the model is deterministic enough; the bench reports how many are identical.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import tempfile
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

from bench_serve import BASELINE, module_at

from persona_lab.workspace import Workspace


def run(runner, engine, registry: dict, items: list, settings) -> tuple[float, dict]:
    variants = [v["name"] for v in registry["variants"]]
    with tempfile.TemporaryDirectory() as folder:
        # both shapes of a lab: the old runner joins workspace_dir itself, the new one asks config.paths
        config = SimpleNamespace(workspace_dir=Path(folder), paths=Workspace(Path(folder)))
        # the old runner sampled at a fixed top_p of 0.9, which is eval.top_p's default
        extra = {"top_p": settings.top_p} if "top_p" in inspect.signature(runner.generate_missing).parameters else {}
        start = time.perf_counter()
        replies = runner.generate_missing(config, engine, variants, items, max_tokens=settings.max_tokens,
                                          temperature=settings.temperature, seed=settings.seed,
                                          samples=settings.samples_per_context, progress=False, **extra)
        return time.perf_counter() - start, replies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", type=Path, default=Path("results/demo"))
    parser.add_argument("--config", type=Path, default=Path("configs/demo.yaml"))
    parser.add_argument("--contexts", type=int, default=12)
    args = parser.parse_args()
    import torch

    from persona_lab.config import load_config
    from persona_lab.evaluate import runner
    from persona_lab.serve.local import LocalEngine
    from persona_lab.workspace.shapes import read_eval_items

    config = load_config(args.config)
    settings = config.eval
    registry = json.loads((args.lab / "variants.json").read_text("utf-8"))
    items = read_eval_items(Workspace(args.lab).chat_eval)[:args.contexts]
    n_variants = len(registry["variants"])
    print(f"# bench_eval_gen {date.today()} · {os.cpu_count()} cores · torch threads {torch.get_num_threads()} · "
          f"{n_variants} variants x {len(items)} contexts x {settings.samples_per_context} samples = "
          f"{n_variants * len(items) * settings.samples_per_context} replies · max_tokens {settings.max_tokens} · "
          f"temperature {settings.temperature} · serve.max_batch {config.serve.max_batch}")
    today_local = module_at(BASELINE, "persona_lab/serve/local.py", "persona_lab_serve_local_today")
    # the runner of that day imported helpers that have moved to persona_lab.workspace since (issue 15); its
    # generate_missing (the loop measured here) uses none of them
    today_runner = module_at(BASELINE, "persona_lab/evaluate/runner.py", "persona_lab_evaluate_runner_today", {
        "from persona_lab.evaluate.profile import EvalInputError, load_candidates, load_profile, load_refs":
            "from persona_lab.evaluate.profile import EvalInputError, load_profile",
        "from persona_lab.evaluate.report import save_replies, write_report":
            "from persona_lab.evaluate.report import write_report"})
    engines = {"today": today_local.LocalEngine(registry, max_batch=config.serve.max_batch),
               "new": LocalEngine(registry, max_batch=config.serve.max_batch)}
    warm_up = SimpleNamespace(max_tokens=4, temperature=0.7, top_p=0.9, seed=99, samples_per_context=1)
    run(today_runner, engines["today"], registry, items[:1], warm_up)
    run(runner, engines["new"], registry, items[:1], warm_up)
    seconds, replies = {}, {}
    seconds["today"], replies["today"] = run(today_runner, engines["today"], registry, items, settings)
    print(f"today (main @ {BASELINE}): {seconds['today']:.1f} s", flush=True)
    seconds["new"], replies["new"] = run(runner, engines["new"], registry, items, settings)
    print(f"new: {seconds['new']:.1f} s")
    pairs = [(replies["today"][v][i], replies["new"][v][i]) for v in replies["new"] for i in replies["new"][v]]
    same = sum(a == b for a, b in pairs)
    print(f"speed-up {seconds['today'] / seconds['new']:.2f}x · identical reply lists {same} of {len(pairs)} "
          f"(variant, context) pairs")


if __name__ == "__main__":
    main()
