"""Progress in a log file: `make demo > demo.log` still says how far a long stage has got."""

from __future__ import annotations

import io

from persona_lab.progress import StageProgress


def test_plain_lines_at_every_tenth_when_not_a_terminal():
    out = io.StringIO()
    progress = StageProgress("generate", 200, "replies", stream=out, every_s=3600)
    for _ in range(50):
        progress.advance(4)
    progress.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "generate: 0/200 replies"
    assert len(lines) == 11 and lines[-1].startswith("generate: 200/200 replies (100%,")
    assert lines[1].startswith("generate: 20/200 replies (10%,") and "s left" in lines[1]


def test_a_line_at_least_every_so_often():
    out = io.StringIO()
    progress = StageProgress("train", 1000, "steps", stream=out, every_s=0.0)
    progress.advance(1, "loss 2.5")
    assert out.getvalue().splitlines()[-1].startswith("train: 1/1,000 steps (0%,") and "loss 2.5" in out.getvalue()
