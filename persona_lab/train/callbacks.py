"""Trainer callbacks: a JSONL log of every logged step, and a rich progress bar with loss and tokens/s."""

from __future__ import annotations

import json
import time
from pathlib import Path

from transformers import TrainerCallback

from persona_lab.progress import StageProgress


class JsonlLogCallback(TrainerCallback):
    """Appends each log event (step, loss, lr, tokens seen, wall time) to a JSONL file, so a resumed run
    keeps one continuous log."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = time.time()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or not state.is_world_process_zero:
            return
        row = {"step": state.global_step, "epoch": round(state.epoch or 0, 4),
               "tokens": state.num_input_tokens_seen, "wall_s": round(time.time() - self.started, 2), **logs}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")


class RichProgressCallback(TrainerCallback):
    """A rich bar on a terminal; in a log file or a pipe, plain progress lines (persona_lab.progress)."""

    def __init__(self) -> None:
        self.progress = None
        self.task = None
        self.lines = None
        self.started = 0.0
        self.tokens_at_start = 0
        self.loss = float("nan")

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        import sys

        self.started = time.time()
        self.tokens_at_start = state.num_input_tokens_seen
        if not sys.stdout.isatty():
            self.lines = StageProgress("train", state.max_steps, "steps")
            if state.global_step:  # resumed
                self.lines.advance(state.global_step, "resumed")
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn("train"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("loss {task.fields[loss]:.3f} · {task.fields[tps]:,.0f} tok/s"),
                                 TimeRemainingColumn(), transient=False)
        self.progress.start()
        self.task = self.progress.add_task("", total=state.max_steps, completed=state.global_step,
                                           loss=float("nan"), tps=0.0)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.loss = logs["loss"]

    def on_step_end(self, args, state, control, **kwargs):
        elapsed = max(time.time() - self.started, 1e-6)
        tps = (state.num_input_tokens_seen - self.tokens_at_start) / elapsed
        if self.lines is not None:
            self.lines.advance(state.global_step - self.lines.done, f"loss {self.loss:.3f}, {tps:,.0f} tok/s")
        if self.progress is None:
            return
        self.progress.update(self.task, completed=state.global_step, loss=self.loss, tps=tps)

    def on_train_end(self, args, state, control, **kwargs):
        if self.lines is not None:
            self.lines.close()
            self.lines = None
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
