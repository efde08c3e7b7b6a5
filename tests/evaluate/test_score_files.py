"""`persona-eval score` on files alone: no model, any system's replies, controls scored beside them,
missing ids reported, bad input named, and a recommendation only when the evidence separates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from persona_lab.cli import eval_main
from tests.evaluate.conftest import eval_rows, write_jsonl

BOT = "As an AI language model, I am happy to help you with that request today."


def candidates(tmp_path: Path) -> dict[str, Path]:
    refs = eval_rows(48)
    me = [{"id": r["id"], "reply": r["reply"]} for r in refs]  # my real replies: the best a clone could do
    bot = [{"id": r["id"], "reply": BOT} for r in refs[:46]]  # two ids missing
    return {"me": write_jsonl(tmp_path / "me.jsonl", me), "bot": write_jsonl(tmp_path / "bot.jsonl", bot)}


def test_score_command_writes_scores_controls_and_report(persona_files, tmp_path: Path, capsys):
    out = tmp_path / "out"
    files = candidates(tmp_path)
    code = eval_main(["score", "--profile", str(persona_files["train"]), "--refs", str(persona_files["refs"]),
                      "--candidates", f"me={files['me']}", f"bot={files['bot']}", "--out", str(out),
                      "--n-bootstrap", "60"])
    assert code == 0
    scores = json.loads((out / "scores.json").read_text("utf-8"))
    assert scores["ranking"] == ["me", "bot"]
    assert scores["controls"] == ["real", "me_elsewhere", "copy_train", "other_person", "generic", "constant",
                                  "caricature"]
    me, bot, real = (scores["variants"][n] for n in ("me", "bot", "real"))
    assert bot["n"] == 46 and bot["missing"] == 2 and me["n"] == 48
    assert bot["breakdown"]["failures"]["rate.ai_disclaimer"] == 1.0
    assert bot["breakdown"]["failures"]["rate.duplicate"] == 1.0 and bot["metrics"]["failures"] < 0.2
    # a copy of my real replies is "real": fidelity 1 by construction of the anchors, and its interval is tight
    assert abs(me["fidelity"] - 1.0) < 1e-9 and real["fidelity"] == 1.0
    assert scores["variants"]["other_person"]["fidelity"] == 0.0
    assert bot["fidelity"] < 0 and bot["fidelity_ci"][1] < 0.5
    lo, hi = scores["variants"]["me_elsewhere"]["fidelity_ci"]
    assert lo <= scores["variants"]["me_elsewhere"]["fidelity"] <= hi
    assert real["metrics"]["rouge_l"] is None  # cannot be scored without comparing a reply with itself
    assert scores["weights_basis"]["method"] == "equal"  # 36 dev items: too few to fit weights
    printed = capsys.readouterr().out
    assert "no reply for 2 of 48" in printed and "(other_person)" in printed
    report = (out / "report.md").read_text("utf-8")
    assert "| *real* (control) | 1.00" in report and "## Per audience" in report
    assert "![metrics](metrics.png)" in report and "## Automated judge" in report
    html = (out / "report.html").read_text()
    assert (out / "metrics.png").stat().st_size > 5000 and "data:image/png;base64" in html
    assert html.count('<tr class="control">') == 7
    assert eval_main(["report", str(out)]) == 0
    assert (out / "report.md").read_text("utf-8") == report  # re-rendered from the files, identically


def test_recommendation_refuses_to_pick_from_noise(persona_files, tmp_path: Path, capsys):
    refs = eval_rows(48)
    same = [{"id": r["id"], "reply": r["reply"]} for r in refs]
    files = {name: write_jsonl(tmp_path / f"{name}.jsonl", same) for name in ("twin_a", "twin_b")}
    out = tmp_path / "out"
    assert eval_main(["score", "--profile", str(persona_files["train"]), "--refs", str(persona_files["refs"]),
                      "--candidates", *(f"{n}={p}" for n, p in files.items()), "--out", str(out),
                      "--n-bootstrap", "60"]) == 0
    scores = json.loads((out / "scores.json").read_text("utf-8"))
    rec = scores["recommendation"]
    assert rec["winner"] is None and not rec["separable"] and rec["tied_with_leader"]
    assert "no variant separable" in rec["reason"]
    assert "no recommendation:" in capsys.readouterr().out


def test_weights_from_the_command_line(persona_files, tmp_path: Path, capsys):
    files = candidates(tmp_path)
    out = tmp_path / "out"
    assert eval_main(["score", "--profile", str(persona_files["train"]), "--refs", str(persona_files["refs"]),
                      "--candidates", f"me={files['me']}", "--out", str(out), "--n-bootstrap", "30",
                      "--weight", "context=1", "--weight", "style=0"]) == 0
    scores = json.loads((out / "scores.json").read_text("utf-8"))
    assert scores["weights"] == {"context": 1.0} and scores["weights_basis"]["method"] == "config"
    for weight, message in (("rouge_l=2", "unknown metric 'rouge_l'"), ("style=abc", "'abc' is not a number"),
                            ("style=-1", "a weight is a number >= 0")):
        with pytest.raises(SystemExit) as info:  # a usage error: argparse prints it and exits 2
            eval_main(["score", "--profile", str(persona_files["train"]), "--refs", str(persona_files["refs"]),
                       "--candidates", f"me={files['me']}", "--out", str(out), "--weight", weight])
        assert info.value.code == 2 and message in capsys.readouterr().err


def test_bad_candidate_file_is_named(persona_files, tmp_path: Path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "e1", "reply": "ok"}\n{"id": "e2"}\n', "utf-8")
    code = eval_main(["score", "--profile", str(persona_files["train"]), "--refs", str(persona_files["refs"]),
                      "--candidates", f"bad={bad}", "--out", str(tmp_path / "o")])
    assert code == 1 and "bad.jsonl:2" in capsys.readouterr().err


def test_a_candidate_may_not_take_a_control_name(persona_files, tmp_path: Path, capsys):
    files = candidates(tmp_path)
    code = eval_main(["score", "--profile", str(persona_files["train"]), "--refs", str(persona_files["refs"]),
                      "--candidates", f"real={files['me']}", "--out", str(tmp_path / "o")])
    assert code == 1 and "taken by the controls" in capsys.readouterr().err


def test_several_samples_per_context_widen_nothing_when_they_agree(persona_files, tmp_path: Path):
    """Two lines per id are two samples: a variant whose samples are identical has the same point estimate
    as with one sample, and one whose second sample is junk is pulled down half way."""
    refs = eval_rows(48)
    one = write_jsonl(tmp_path / "one.jsonl", [{"id": r["id"], "reply": r["reply"]} for r in refs])
    twice = write_jsonl(tmp_path / "twice.jsonl", [{"id": r["id"], "reply": r["reply"]} for r in refs] * 2)
    mixed = write_jsonl(tmp_path / "mixed.jsonl", [{"id": r["id"], "reply": r["reply"]} for r in refs]
                        + [{"id": r["id"], "reply": BOT} for r in refs])
    out = tmp_path / "out"
    assert eval_main(["score", "--profile", str(persona_files["train"]), "--refs", str(persona_files["refs"]),
                      "--candidates", f"one={one}", f"twice={twice}", f"mixed={mixed}", "--out", str(out),
                      "--n-bootstrap", "40"]) == 0
    v = json.loads((out / "scores.json").read_text("utf-8"))["variants"]
    assert v["one"]["samples_per_context"] == 1 and v["twice"]["samples_per_context"] == 2
    assert v["twice"]["composite"] == v["one"]["composite"]
    assert v["mixed"]["composite"] < v["one"]["composite"] - 0.2 and v["mixed"]["composite"] > 0.2


def test_report_rerendered_from_its_folder_masks_exactly_as_the_run_did(persona_files, tmp_path: Path):
    """`persona-eval report DIR` once re-rendered with a bare Scrubber, which knows no contact names: a name
    `persona-eval run` had masked with the lab's guard came back in the re-rendered report."""
    from persona_lab.evaluate.report import write_report
    from persona_lab.evaluate.runner import score_files
    from persona_lab.privacy import Scrubber
    from persona_lab.serve.guard import ReplyGuard

    contact = "Wenjie Tao"  # a contact of the lab: only the lab's name list knows it
    refs = eval_rows(48)
    planted = write_jsonl(tmp_path / "clone.jsonl", [{"id": r["id"], "reply": f"ask {contact} tonight"} for r in refs])
    out = tmp_path / "out"
    result = score_files(persona_files["train"], persona_files["refs"], {"clone": planted}, out, n_boot=30)
    assert contact in Scrubber().scrub(f"ask {contact} tonight").text  # a bare scrubber does not mask it
    lab_guard = ReplyGuard(Scrubber(extra_names=[contact]), None)
    write_report(result, out, title="lab", samples=3, mask=lab_guard.mask)  # what `persona-eval run` writes
    shown = (out / "report.md").read_text("utf-8")
    assert "- *clone*: ask" in shown and contact not in shown
    assert eval_main(["report", str(out)]) == 0  # no --config: the folder alone
    assert (out / "report.md").read_text("utf-8") == shown
    assert contact not in (out / "report.html").read_text("utf-8")


def test_a_blend_is_recommended_only_above_the_retrieval_baseline(persona_files):
    """The same replies as a blend and as the retrieval variant: the blend is above other_person but not
    above copying me, so nothing is recommended; without the retrieval variant the same blend is."""
    from persona_lab.evaluate.profile import load_profile
    from persona_lab.evaluate.score import score
    from persona_lab.workspace.shapes import read_eval_items

    profile = load_profile(persona_files["train"])
    items = read_eval_items(persona_files["refs"])
    mine = {item.id: item.reply for item in items}
    both = score(profile, items, {"chat72": mine, "retrieval": mine}, n_boot=60,
                 kinds={"chat72": "blend", "retrieval": "retrieval"})
    rec = both.scores["recommendation"]
    assert rec["winner"] is None and rec["not_above_baseline"] == ["retrieval"]
    assert "most similar past context" in rec["reason"]
    alone = score(profile, items, {"chat72": mine}, n_boot=60, kinds={"chat72": "blend"})
    assert alone.scores["recommendation"]["winner"] == "chat72"
