"""The committed Joey report: consistent with its scores, and nothing but the report can be committed
(the transcripts and everything derived from them stay in the git-ignored workspace)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

JOEY = ROOT / "results" / "joey"


def test_joey_report_matches_its_scores():
    scores = json.loads((JOEY / "scores.json").read_text("utf-8"))
    report = (JOEY / "report.md").read_text("utf-8")
    assert set(scores["ranking"]) == {"base", "prompted", "chat", "chat_half", "chat_s75"}
    for rank, variant in enumerate(scores["ranking"], 1):
        entry = scores["variants"][variant]
        assert entry["n"] == 250
        assert f"| {rank} | {variant} | {entry['composite']:.3f} " in report
    assert "## Side by side" not in report  # no transcript lines in a published report
    for plot in ("metrics.png", "lengths.png", "style_radar.png"):
        assert (JOEY / plot).stat().st_size < 200_000


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_only_the_report_of_the_joey_lab_can_be_committed():
    def ignored(path: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False).returncode == 0

    for path in ("results/joey/data/messages.jsonl", "results/joey/data/chat_train.jsonl",
                 "results/joey/adapters/chat/final/adapter_model.safetensors", "results/joey/eval/replies.json",
                 "results/joey/eval/replies/chat.jsonl", "results/joey/.secret", "results/demo/data/x.jsonl"):
        assert ignored(path), path
    for path in ("results/joey/report.md", "results/joey/scores.json", "results/joey/metrics.png",
                 "results/README.md", "results/BENCHMARKS.md"):
        assert not ignored(path), path
