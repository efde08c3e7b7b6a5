"""The report says whether each preference-tuned variant beat its parent, with the paired interval."""

from __future__ import annotations

from pathlib import Path

from persona_lab.evaluate.profile import load_profile
from persona_lab.evaluate.report import write_report
from persona_lab.evaluate.score import score
from persona_lab.workspace.shapes import read_eval_items
from tests.evaluate.conftest import eval_rows

BOT = "As an AI language model, I am happy to help you with that request today."


def test_tuned_variants_are_compared_with_their_parents(persona_files, tmp_path: Path):
    items = read_eval_items(persona_files["refs"])
    real = {r["id"]: r["reply"] for r in eval_rows(48)}
    bot = {i: BOT for i in real}
    candidates = {"parent": bot, "parent-dpo": real, "good": real, "good-spin": bot, "twin": real, "twin-kto": real}
    parents = {"parent-dpo": "parent", "good-spin": "good", "twin-kto": "twin", "orphan-spin": "missing"}
    result = score(load_profile(persona_files["train"]), items, candidates, n_boot=60, parents=parents)
    rows = result.scores["tuned_vs_parent"]
    assert set(rows) == {"parent-dpo", "good-spin", "twin-kto"}  # a parent that was not scored: no row
    assert rows["parent-dpo"]["verdict"] == "beat its parent" and rows["parent-dpo"]["ci"][0] > 0
    assert rows["good-spin"]["verdict"] == "worse than its parent" and rows["good-spin"]["ci"][1] < 0
    assert rows["twin-kto"]["verdict"] == "not separable from its parent" and rows["twin-kto"]["difference"] == 0
    assert rows["parent-dpo"]["n"] == 48 and rows["parent-dpo"]["parent"] == "parent"
    rows["twin-kto"]["eval_items_trained"] = 3  # as run_eval copies it from the registry entry
    write_report(result, tmp_path / "out", samples=0)
    report = (tmp_path / "out" / "report.md").read_text("utf-8")
    assert "## Tuned variants vs their parents" in report
    assert "| parent-dpo | parent |" in report and "| beat its parent |" in report
    assert "twin-kto (3 items left out)." in report


def test_a_variant_is_not_scored_on_held_out_items_it_was_tuned_on():
    from persona_lab.evaluate.runner import not_trained_on

    replies = {"chat": {"e1": ["a"], "e2": ["b"]}, "chat-kto": {"e1": ["c"], "e2": ["d"]}}
    kept = not_trained_on(replies, {"chat-kto": {"e1"}, "chat": set()})
    assert kept == {"chat": {"e1": ["a"], "e2": ["b"]}, "chat-kto": {"e2": ["d"]}}
