"""Training throughput: tokens/s of LoRA SFT with padded, length-grouped and packed batches.

    python eval/bench_train.py [--models tiny-test,smollm2-135m] [--steps 6] [--data results/demo/data]

Trains the chat adapter on the demo lab's chat_train.jsonl (run `persona-lab ingest --config
configs/demo.yaml` first) for a fixed number of optimiser steps per setting, and reports non-padding
tokens per second of the training loop alone (model loading excluded). Packing fills each row with
several samples, so it wastes no compute on padding, but without flash-attention (CPU) the samples of a
row attend to each other; length-grouped batches cut padding without that leak (the default). The last
line is the default batching with gradient checkpointing on (TRL's default, off in persona-lab on a CPU).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path


def measure(model: str, batching: str, steps: int, data: Path, checkpointing: bool = False) -> dict:
    from persona_lab.basemodel import resolve_base
    from persona_lab.config import TrainSettings
    from persona_lab.train.sft import _make_trainer, load_messages

    base = resolve_base(model)
    rows = load_messages(data / "chat_train.jsonl")
    # One extra warm-up step, not timed: the first step pays one-off allocation and kernel set-up.
    settings = TrainSettings(max_steps=steps + 1, batch_size=4, max_length=256, batching=batching, save_steps=10**6,
                             gradient_checkpointing=checkpointing)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = _make_trainer(base, rows, settings, Path(tmp), 0, Path(tmp) / "log.jsonl", progress=False)
        timer = AfterFirstStep()
        trainer.add_callback(timer)
        trainer.train()
        seconds = time.perf_counter() - timer.start
        tokens = trainer.state.num_input_tokens_seen - timer.tokens
    return {"tokens": tokens, "seconds": seconds, "tps": tokens / seconds}


def _callback_base():
    from transformers import TrainerCallback

    return TrainerCallback


class AfterFirstStep(_callback_base()):
    start = 0.0
    tokens = 0

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == 1:
            self.start, self.tokens = time.perf_counter(), state.num_input_tokens_seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="tiny-test,smollm2-135m")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--data", type=Path, default=Path("results/demo/data"))
    args = parser.parse_args()
    import torch

    print(f"# bench_train {date.today()} · {platform.machine()} · {os.cpu_count()} cores · "
          f"torch threads {torch.get_num_threads()} · batch 4 · max_length 256 · {args.steps} steps")
    for model in args.models.split(","):
        results = {mode: measure(model, mode, args.steps, args.data) for mode in ("padded", "grouped", "packed")}
        # TRL's default; persona-lab turns it off on a CPU.
        results["grouped+checkpointing"] = measure(model, "grouped", args.steps, args.data, checkpointing=True)
        for mode, r in results.items():
            print(f"{model:>14} {mode:>21}: {r['tps']:8.0f} tokens/s ({r['tokens']:,} tokens in {r['seconds']:.1f} s)"
                  f"  {r['tps'] / results['padded']['tps']:.2f}x padded")
    shutil.rmtree("tmp_trainer", ignore_errors=True)


if __name__ == "__main__":
    main()
