"""The whole loop on the bundled sample persona with the tiny model: ingest (with blog Q&A and
scrubbing), train both adapters for a few steps (chat without the dev split), blend 5:5/7:2/9:1, search
four blends on the dev split (the three fixed ratios, then one proposal) and register the best as `auto`,
SPIN-tune the chat adapter into `chat-spin`, evaluate every variant, report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from persona_lab.cli import main
from persona_lab.privacy import TYPES
from tests.conftest import ROOT


def test_run_loop_end_to_end_on_the_sample_persona(tmp_path: Path, capsys):
    raw = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text("utf-8"))
    raw.update(base_model="tiny-test", workspace=str(tmp_path / "demo"),
               sources=[{"path": str(ROOT / "sample" / "wechat")},
                        {"path": str(ROOT / "sample" / "telegram" / "result.json")}],
               blog=[str(ROOT / "sample" / "blog")])
    raw["train"] = {"chat": {"max_steps": 4, "batch_size": 4, "save_steps": 2},
                    "blog": {"max_steps": 2, "batch_size": 4, "save_steps": 2}}
    raw["eval"] = {"n": 12, "max_tokens": 12, "n_bootstrap": 30, "samples_per_context": 2}
    raw["search"] = {"enabled": True, "trials": 4, "batch": 4, "contexts": 12, "n_bootstrap": 20}
    config = tmp_path / "demo.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    assert main(["run", "--config", str(config), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert ("recommended:" in out or "no recommendation:" in out) and "report:" in out
    scores = json.loads((tmp_path / "demo" / "eval" / "scores.json").read_text("utf-8"))
    assert set(scores["ranking"]) == {"base", "prompted", "retrieval", "chat", "blog", "chat55", "chat72", "chat91",
                                      "auto", "chat-spin"}
    assert scores["tuned_vs_parent"]["chat-spin"]["parent"] == "chat"
    search = json.loads((tmp_path / "demo" / "search" / "trials.json").read_text("utf-8"))
    assert [t["fixed"] for t in search["trials"]] == ["chat55", "chat72", "chat91", None]
    assert search["dev_items"] == 12 and search["best"] in [t["name"] for t in search["trials"]]
    auto = json.loads((tmp_path / "demo" / "variants.json").read_text("utf-8"))["variants"][-1]
    assert auto["name"] == "auto" and auto["search"]["trial"] == search["best"] and auto["method"] == "cat"
    assert json.loads((tmp_path / "demo" / "adapters" / "chat" / "manifest.json").read_text("utf-8"))["held_out"] > 0
    assert all(scores["variants"][v]["n"] == 12 and scores["variants"][v]["samples_per_context"] == 2
               for v in scores["ranking"])
    assert scores["variants"]["real"]["fidelity"] == 1.0 and "weights_basis" in scores
    assert set(scores["privacy_probes"]["chat72"]) >= {"real_leaks", "invented"}
    # the demo plants 2 canaries: in the training copy only, never in what is held out or kept as messages
    # (that a memorised canary's exposure rises is tested in tests/privacy/test_canary_exposure.py)
    data = tmp_path / "demo" / "data"
    values = [c["value"] for c in json.loads((data / "canaries.json").read_text("utf-8"))["canaries"]]
    assert len(values) == 2
    assert all(v in (data / "chat_train.jsonl").read_text("utf-8") for v in values)
    assert not any(v in (data / name).read_text("utf-8") for v in values
                   for name in ("chat_eval.jsonl", "messages.jsonl", "blog_train.jsonl"))
    # privacy.mode surrogate (the demo's default): no planted private value in any file the loop wrote
    # (data, adapters, blends, replies, reports), and no training or evaluation text with a placeholder
    planted = json.loads((ROOT / "sample" / "planted_private.json").read_text("utf-8"))
    written = [p for p in (tmp_path / "demo").rglob("*") if p.is_file()]
    assert len(written) > 20
    assert [(item["value"], p.name) for p in written for item in planted
            if item["value"].encode("utf-8") in p.read_bytes()] == []
    for name in ("chat_train.jsonl", "chat_eval.jsonl", "blog_train.jsonl"):
        assert not re.search(r"\[(?:" + "|".join(TYPES) + r")(?:#\d+)?\]", (data / name).read_text("utf-8")), name
    report = (tmp_path / "demo" / "eval" / "report.md").read_text("utf-8")
    assert "## Privacy probes" in report and "## Canary exposure" in report and "*real* (control)" in report
    cached = (tmp_path / "demo" / "eval" / "replies" / "chat72.jsonl").read_text("utf-8").splitlines()
    assert len(cached) == 24  # 12 contexts x 2 samples
    manifest = json.loads((tmp_path / "demo" / "run_manifest.json").read_text("utf-8"))
    assert list(manifest) == ["blend", "eval", "ingest", "search", "train", "tune"] and manifest["eval"]["reason"] == "never run"
    assert "## Blend search (dev split)" in report and (tmp_path / "demo" / "eval" / "search.png").exists()
    report_bytes = (tmp_path / "demo" / "eval" / "report.md").read_bytes()

    # a second run skips every stage: nothing is rewritten, no reply generated
    assert main(["run", "--config", str(config), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert [line.split("]")[0] + "]" for line in out.splitlines() if "skipped:" in line] == \
        ["[ingest]", "[train]", "[blend]", "[search]", "[tune]", "[eval]"], out
    assert (tmp_path / "demo" / "eval" / "report.md").read_bytes() == report_bytes
    assert (tmp_path / "demo" / "eval" / "replies" / "chat72.jsonl").read_text("utf-8").splitlines() == cached
    assert "report:" in out and "chat91" in out  # still says where things are

    # variants.json is derived from disk: deleted, it comes back the same, and nothing reruns
    def registry_without_time() -> dict:
        return {**json.loads((tmp_path / "demo" / "variants.json").read_text("utf-8")), "updated": None}

    registry = registry_without_time()
    (tmp_path / "demo" / "variants.json").unlink()
    assert main(["run", "--config", str(config), "--quiet"]) == 0
    assert "[eval] skipped" in capsys.readouterr().out
    assert registry_without_time() == registry

    # --force blend redoes the blends only; seeded and exact, so evaluation sees the same inputs
    assert main(["run", "--config", str(config), "--quiet", "--force", "blend"]) == 0
    out = capsys.readouterr().out
    assert "[blend] ran (forced)" in out and "[train] skipped" in out and "[search] skipped" in out
    assert "[tune] skipped" in out and "[eval] skipped" in out, out

    # --force train retrains; seeded, so the same weights come out and no blend is rebuilt
    assert main(["run", "--config", str(config), "--quiet", "--force", "train"]) == 0
    out = capsys.readouterr().out
    assert "[train] ran (forced)" in out and "[blend] skipped" in out and "[eval] skipped" in out, out

    # an edited output is noticed: its stage reruns, the later ones only if their inputs changed
    (tmp_path / "demo" / "data" / "DATA_CARD.md").write_text("edited by hand\n", "utf-8")
    assert main(["run", "--config", str(config), "--quiet", "--until", "train"]) == 0
    out = capsys.readouterr().out
    assert "[ingest] ran (outputs missing or changed)" in out and "[train] skipped" in out, out
    assert "[blend]" not in out and "[eval]" not in out  # --until train stops there

    # a changed setting reruns the stages that read it, and only those
    raw["eval"]["max_tokens"] = 10
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    assert main(["run", "--config", str(config), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "[ingest] skipped" in out and "[blend] skipped" in out and "[eval] ran (inputs changed)" in out, out


def test_run_rejects_unknown_stages(tmp_path: Path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--config", str(ROOT / "configs" / "demo.yaml"), "--until", "report"])
    assert exit_.value.code == 2
    assert "invalid choice: 'report'" in capsys.readouterr().err


def test_run_loop_names_an_unknown_stage():
    from persona_lab.config import parse_config
    from persona_lab.loop import RunError, RunOptions, run_loop

    config = parse_config({"name": "x"}, Path("x.yaml"))
    with pytest.raises(RunError, match="unknown stage 'scrub'; the stages are ingest, train, blend, search, tune, eval"):
        run_loop(config, RunOptions(force={"scrub"}))


def test_the_command_line_offers_exactly_the_loops_stages():
    from persona_lab.cli import RUN_STAGES
    from persona_lab.loop import STAGES

    assert RUN_STAGES == STAGES
