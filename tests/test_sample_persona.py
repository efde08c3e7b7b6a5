"""The bundled demo persona, ingested with configs/demo.yaml: every planted private value is replaced
everywhere under the lab's data folder (by surrogates, the default, or by placeholders), and the
look-alikes that are not private survive."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from persona_lab.config import parse_config
from persona_lab.ingest.stage import run_ingest
from persona_lab.privacy import TYPES
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def demo_lab(tmp_path_factory) -> Path:
    workspace = tmp_path_factory.mktemp("demo")
    raw = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text("utf-8"))
    raw["workspace"] = str(workspace)
    run_ingest(parse_config(raw, ROOT / "configs" / "demo.yaml"), progress=False)
    return workspace


def test_no_planted_private_value_survives_anywhere(demo_lab: Path):
    planted = json.loads((ROOT / "sample" / "planted_private.json").read_text("utf-8"))
    assert len(planted) >= 10
    files = [p for p in (demo_lab / "data").rglob("*") if p.is_file() and p.name != "canaries.json"]
    assert {"messages.jsonl", "chat_train.jsonl", "chat_eval.jsonl", "blog_train.jsonl"} <= {p.name for p in files}
    leaks = [(item["type"], item["value"], p.name) for p in files for item in planted
             if item["value"] in p.read_text("utf-8", errors="replace")]
    assert leaks == []


@pytest.fixture(scope="module")
def placeholder_lab(tmp_path_factory) -> Path:
    workspace = tmp_path_factory.mktemp("demo-placeholder")
    raw = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text("utf-8"))
    raw["workspace"] = str(workspace)
    raw["privacy"]["mode"] = "placeholder"
    run_ingest(parse_config(raw, ROOT / "configs" / "demo.yaml"), progress=False)
    return workspace


def test_lookalikes_survive_and_masks_are_typed(placeholder_lab: Path):
    lookalikes = json.loads((ROOT / "sample" / "planted_lookalikes.json").read_text("utf-8"))
    text = (placeholder_lab / "data" / "messages.jsonl").read_text("utf-8")
    missing = [item["value"] for item in lookalikes if item["value"] not in text]
    assert missing == []
    for placeholder in ("[PHONE]", "[ID]", "[BANKCARD]", "[ADDRESS]", "[PASSWORD]", "[NAME]", "[EMAIL]"):
        assert placeholder in text, placeholder


PLACEHOLDER = re.compile(r"\[(?:" + "|".join(TYPES) + r")(?:#\d+)?\]")


def test_surrogates_leave_no_brackets_and_keep_look_alikes(demo_lab: Path):
    """The default (surrogate) mode: no training or evaluation text carries a placeholder (the demo had 73
    of 382 training samples with [NAME…] before), look-alikes survive, and each planted type was replaced."""
    for name in ("messages.jsonl", "chat_train.jsonl", "chat_eval.jsonl", "blog_train.jsonl"):
        text = (demo_lab / "data" / name).read_text("utf-8")
        assert PLACEHOLDER.findall(text) == [], name
    lookalikes = json.loads((ROOT / "sample" / "planted_lookalikes.json").read_text("utf-8"))
    text = (demo_lab / "data" / "messages.jsonl").read_text("utf-8")
    assert [item["value"] for item in lookalikes if item["value"] not in text] == []
    counts = json.loads((demo_lab / "data" / "pii_report.json").read_text("utf-8"))["counts"]
    assert {"PHONE", "ID", "BANKCARD", "ADDRESS", "PASSWORD", "NAME", "EMAIL"} <= set(counts)


def test_surrogates_are_consistent_across_the_corpus(demo_lab: Path):
    """The partner's given name (extra_names: 晚晴) becomes one fake everywhere: the fake list holds it once and
    that fake appears in several files."""
    fakes = json.loads((demo_lab / "data" / "surrogate_names.json").read_text("utf-8"))["names"]
    assert fakes and "晚晴" not in fakes and "苏晚晴" not in fakes
    texts = {name: (demo_lab / "data" / name).read_text("utf-8") for name in ("chat_train.jsonl", "messages.jsonl")}
    assert any(all(fake in text for text in texts.values()) for fake in fakes)


def test_pii_report_has_hashes_and_no_raw_values(demo_lab: Path):
    report_text = (demo_lab / "data" / "pii_report.json").read_text("utf-8")
    report = json.loads(report_text)
    assert report["counts"]["ID"] >= 1 and report["counts"]["BANKCARD"] >= 1
    assert all(len(h) == 64 for hashes in report["hashes"].values() for h in hashes)
    planted = json.loads((ROOT / "sample" / "planted_private.json").read_text("utf-8"))
    assert not [p["value"] for p in planted if p["value"] in report_text]
    secret = demo_lab / ".secret"
    assert secret.stat().st_mode & 0o777 == 0o600


def test_canaries_are_in_training_only(demo_lab: Path):
    record = json.loads((demo_lab / "data" / "canaries.json").read_text("utf-8"))
    values = [c["value"] for c in record["canaries"]]
    assert len(values) == 2
    train = (demo_lab / "data" / "chat_train.jsonl").read_text("utf-8")
    held_out = (demo_lab / "data" / "chat_eval.jsonl").read_text("utf-8") + \
        (demo_lab / "data" / "messages.jsonl").read_text("utf-8")
    assert all(v in train for v in values) and not any(v in held_out for v in values)


def test_demo_accounting_and_facets(demo_lab: Path):
    report = json.loads((demo_lab / "data" / "ingest_report.json").read_text("utf-8"))
    for entry in report["files"] + [report["total"]]:
        assert entry["read"] == entry["kept"] + sum(entry["dropped"].values())
    assert report["errors"] == []
    assert set(report["facets"]) == {"family", "partner", "friends", "colleagues", "group"}
    assert report["pairs"]["replies"] >= 400 and report["pairs"]["eval"] >= 30
    blog = report["blog"]
    assert blog["read"] == blog["kept"] + sum(blog["dropped"].values()) and blog["pairs"] > 50
