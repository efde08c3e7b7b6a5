"""Progress for long stages: a rich bar on a terminal, plain lines when output goes to a file or a pipe
(``make demo > demo.log`` must still say how far a 10-minute stage has got).

Lines are printed at every tenth of the work and at least every ``every_s`` seconds, with the rate and an
estimate of the time left.
"""

from __future__ import annotations

import sys
import time


class StageProgress:
    def __init__(self, label: str, total: int, unit: str = "", *, every_s: float = 30.0,
                 stream=None, fields: str = "") -> None:
        self.label, self.total, self.unit = label, max(total, 0), unit
        self.done = 0
        self.started = self.last_line = time.time()
        self.every_s = every_s
        self.stream = stream or sys.stdout
        self.next_tenth = 1
        self.bar = None
        if self.stream.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            self.bar.start()
            self.task = self.bar.add_task("", total=self.total)
        else:
            print(f"{label}: 0/{self.total:,} {unit}".rstrip(), file=self.stream, flush=True)

    def advance(self, n: int = 1, note: str = "") -> None:
        self.done += n
        if self.bar is not None:
            self.bar.advance(self.task, n)
            return
        now = time.time()
        tenth = self.done * 10 // max(self.total, 1)
        if tenth >= self.next_tenth or now - self.last_line >= self.every_s or self.done >= self.total:
            self.next_tenth = tenth + 1
            self.last_line = now
            elapsed = now - self.started
            rate = self.done / elapsed if elapsed > 0 else 0.0
            left = (self.total - self.done) / rate if rate > 0 else float("nan")
            print(f"{self.label}: {self.done:,}/{self.total:,} {self.unit} ({self.done / max(self.total, 1):.0%}, "
                  f"{elapsed:.0f} s, about {left:.0f} s left){' ' + note if note else ''}".replace("  ", " "),
                  file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def quiet_library_progress() -> None:
    """Our own progress bar replaces the libraries' (datasets map bars, weight-loading bars)."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
