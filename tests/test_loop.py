"""The whole loop on the bundled sample persona with the tiny model: ingest (with blog Q&A and
scrubbing), train both adapters for a few steps, blend 5:5/7:2/9:1, evaluate every variant, report."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from persona_lab.cli import main
from tests.conftest import ROOT


def test_run_loop_end_to_end_on_the_sample_persona(tmp_path: Path, capsys):
    raw = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text("utf-8"))
    raw.update(base_model="tiny-test", workspace=str(tmp_path / "demo"),
               sources=[{"path": str(ROOT / "sample" / "wechat")},
                        {"path": str(ROOT / "sample" / "telegram" / "result.json")}],
               blog=[str(ROOT / "sample" / "blog")])
    raw["train"] = {"chat": {"max_steps": 4, "batch_size": 4, "save_steps": 2},
                    "blog": {"max_steps": 2, "batch_size": 4, "save_steps": 2}}
    raw["eval"] = {"n": 12, "max_tokens": 12, "n_bootstrap": 30,
                   "weights": {"rouge_l": 1, "authorship": 2, "style": 2, "failures": 1, "privacy": 0.5}}
    config = tmp_path / "demo.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    assert main(["run", "--config", str(config), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "recommended:" in out and "report:" in out
    scores = json.loads((tmp_path / "demo" / "eval" / "scores.json").read_text("utf-8"))
    assert set(scores["ranking"]) == {"base", "prompted", "chat", "blog", "chat55", "chat72", "chat91"}
    assert all(v["n"] == 12 for v in scores["variants"].values())
    assert set(scores["privacy_probes"]["chat72"]) >= {"real_leaks", "invented"}
    assert scores["canary_exposure"]["chat"]["mean_exposure"] >= 0
    report = (tmp_path / "demo" / "eval" / "report.md").read_text("utf-8")
    assert "## Privacy probes" in report and "## Canary exposure" in report and "**Recommended:" in report
    cached = (tmp_path / "demo" / "eval" / "replies" / "chat72.jsonl").read_text("utf-8").splitlines()
    assert len(cached) == 12
    # a second run reuses every stage's output: no new replies are generated
    assert main(["run", "--config", str(config), "--quiet"]) == 0
    assert (tmp_path / "demo" / "eval" / "replies" / "chat72.jsonl").read_text("utf-8").splitlines() == cached
