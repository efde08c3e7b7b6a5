"""The committed Joey report: its scores are recomputed here from the committed replies (the variants'
generated text, results/joey/replies/) and the transcripts in ../shared/data, with the lab's own config — so
a change to the metrics that is not re-published, or a report not made from these replies, fails. Nothing
but the report, its plots and the generated replies can be committed (the transcripts and everything
derived from them stay in the git-ignored workspace)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, shared_file

JOEY = ROOT / "results" / "joey"
PLOTS = ("metrics.png", "lengths.png", "style.png")


@pytest.mark.slow
def test_joey_scores_recompute_from_the_committed_replies(tmp_path: Path, monkeypatch):
    from persona_lab.config import load_config
    from persona_lab.evaluate.profile import load_profile
    from persona_lab.evaluate.runner import select_items
    from persona_lab.evaluate.score import _jsonable, score
    from persona_lab.ingest.stage import run_ingest
    from persona_lab.workspace.shapes import read_eval_items, read_reply_cache

    monkeypatch.setenv("PERSONA_LAB_FRIENDS", str(shared_file("friends/friends_s01-s08.jsonl")))
    config = load_config(ROOT / "configs" / "joey.yaml")
    config.workspace = tmp_path / "joey"
    run_ingest(config, progress=False)
    published = json.loads((JOEY / "scores.json").read_text("utf-8"))
    settings = config.eval
    items = select_items(read_eval_items(config.data_dir / "chat_eval.jsonl"), settings.n, settings.seed)
    replies = {v: read_reply_cache(JOEY / "replies" / f"{v}.jsonl") for v in published["ranking"]}
    kinds = {v: published["variants"][v]["kind"] for v in published["ranking"]}
    result = score(load_profile(config.data_dir / "chat_train.jsonl", seed=settings.seed), items, replies,
                   weights=settings.weights, n_boot=settings.n_bootstrap, seed=settings.seed, kinds=kinds,
                   options={"embedding_model": settings.embedding_model})
    scores = _jsonable(result.scores)
    assert scores["ranking"] == published["ranking"] and scores["weights"] == pytest.approx(published["weights"])
    for name, entry in published["variants"].items():
        mine = scores["variants"][name]
        assert mine["n"] == entry["n"] and mine["samples_per_context"] == entry["samples_per_context"], name
        for key in ("fidelity", "composite"):
            assert mine[key] == pytest.approx(entry[key], abs=1e-6), (name, key)
            assert mine[f"{key}_ci"] == pytest.approx(entry[f"{key}_ci"], abs=1e-6), (name, key)
        for metric, value in entry["metrics"].items():
            assert mine["metrics"][metric] == pytest.approx(value, abs=1e-6, nan_ok=True), (name, metric)
    for key in ("winner", "leader", "separable", "tied_with_leader"):
        assert scores["recommendation"][key] == published["recommendation"][key], key


def test_joey_report_shows_its_scores_and_no_transcript_lines():
    scores = json.loads((JOEY / "scores.json").read_text("utf-8"))
    report = (JOEY / "report.md").read_text("utf-8")
    assert set(scores["ranking"]) == {"base", "prompted", "chat", "chat_half", "chat_s75"}
    for rank, variant in enumerate(scores["ranking"], 1):
        entry = scores["variants"][variant]
        low, high = entry["fidelity_ci"]
        assert f"| {rank} | {variant} | {entry['fidelity']:.2f} ({low:.2f} to {high:.2f}) |" in report
    for control in scores["controls"]:
        assert f"| *{control}* (control) |" in report
    assert "## Side by side" not in report  # no transcript lines in a published report
    for plot in PLOTS:
        assert (JOEY / plot).stat().st_size < 200_000
    lines = sum(len((JOEY / "replies" / f"{v}.jsonl").read_text("utf-8").splitlines()) for v in scores["ranking"])
    assert lines == sum(scores["variants"][v]["n"] * scores["variants"][v]["samples_per_context"]
                        for v in scores["ranking"])


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_only_the_report_of_the_joey_lab_can_be_committed():
    def ignored(path: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False,
                              env={**os.environ, "GIT_DIR": str(ROOT / ".git")}).returncode == 0

    for path in ("results/joey/data/messages.jsonl", "results/joey/data/chat_train.jsonl",
                 "results/joey/adapters/chat/final/adapter_model.safetensors", "results/joey/eval/replies.json",
                 "results/joey/eval/replies/chat.jsonl", "results/joey/.secret", "results/demo/data/x.jsonl",
                 "results/joey/eval/judge.jsonl"):
        assert ignored(path), path
    for path in ("results/joey/report.md", "results/joey/scores.json", "results/joey/metrics.png",
                 "results/joey/replies/chat.jsonl", "results/README.md", "results/BENCHMARKS.md"):
        assert not ignored(path), path
