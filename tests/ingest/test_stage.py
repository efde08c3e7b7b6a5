"""The ingest stage end to end on small original exports: files written, accounting exact, rules held."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from persona_lab.config import parse_config
from persona_lab.ingest.stage import IngestError, run_ingest
from tests.conftest import FIXTURES

EXPORTS = FIXTURES / "exports"


def lab(tmp_path: Path, sources: list, **extra):
    raw = {"name": "t", "sources": sources, "workspace": str(tmp_path / "ws"), **extra}
    return parse_config(raw, tmp_path / "lab.yaml")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def assert_accounting(report: dict) -> None:
    for entry in report["files"] + [report["total"]]:
        assert entry["read"] == entry["kept"] + sum(entry["dropped"].values()), entry


def test_wechat_exports_end_to_end(tmp_path: Path):
    config = lab(tmp_path, [{"path": str(EXPORTS / "wechat_current.csv")}, {"path": str(EXPORTS / "wechat_pages")},
                            {"path": str(EXPORTS / "memotrace_utf8.csv")}],
                 facets={"friends": ["wxid_xiaoman01"], "family": ["wxid_dage"]})
    result = run_ingest(config, progress=False)
    report = result.report
    assert_accounting(report)
    assert report["total"]["read"] == 12 + 6 + 7
    assert report["total"]["dropped"] == {"image": 1, "pat": 1, "quote": 1, "sticker": 1, "system": 1, "transfer": 1}
    train = read_jsonl(result.files["chat_train.jsonl"])
    evals = read_jsonl(result.files["chat_eval.jsonl"])
    assert report["pairs"]["replies"] == report["pairs"]["train"] + report["pairs"]["eval"] + \
        report["pairs"]["eval_dropped"]["reply_seen_in_training"]
    for sample in train:
        assert sample["source"] == "chat" and sample["messages"][-1]["role"] == "assistant"
        assert sample["messages"][0]["role"] == "system" and sample["messages"][1]["role"] == "user"
    # the three page files are one chat, read in page order: "晚安哥" answers "晚安" with the earlier turns before
    everything = train + [{"messages": e["context"] + [{"role": "assistant", "content": e["reply"]}]} for e in evals]
    night = next(s for s in everything if s["messages"][-1]["content"] == "晚安哥")
    assert [m["content"] for m in night["messages"][1:-1]] == ["到家没", "刚到", "早点睡", "嗯嗯知道了", "晚安"]
    assert "a family member" in night["messages"][0]["content"]
    # the latest replies by time are held out, and none of them occurs in training
    latest = max(s["ts"] for s in train)
    assert all(e["ts"] >= latest for e in evals)
    train_replies = {m["content"] for s in train for m in s["messages"] if m["role"] == "assistant"}
    assert not {e["reply"] for e in evals} & train_replies
    # people are pseudonymised in messages.jsonl; no contact name is left in the output files
    data = "".join(result.files[n].read_text("utf-8") for n in ("messages.jsonl", "chat_train.jsonl", "chat_eval.jsonl"))
    for name in ("小满", "大哥", "老周", "小林"):
        assert name not in data
    card = result.files["DATA_CARD.md"].read_text("utf-8")
    assert "| records read | 25 |" in card and "distinctive" in card


def _user_contexts(result) -> list[str]:
    rows = read_jsonl(result.files["chat_train.jsonl"]) + read_jsonl(result.files["chat_eval.jsonl"])
    return [m["content"] for r in rows for m in (r.get("messages") or r["context"]) if m["role"] == "user"]


def test_group_lines_carry_speaker_pseudonyms(tmp_path: Path):
    config = lab(tmp_path, [{"path": str(EXPORTS / "memotrace_utf8.csv")}], privacy={"mode": "placeholder"})
    result = run_ingest(config, progress=False)
    rows = read_jsonl(result.files["chat_train.jsonl"]) + read_jsonl(result.files["chat_eval.jsonl"])
    first = next(r for r in rows if (r.get("messages") or r.get("context")))
    contexts = _user_contexts(result)
    assert any(c.startswith("[NAME#1]: 周六谁来打球\n[NAME#2]: 我我我") for c in contexts), contexts
    assert first["facet"] == "group"


def test_group_speakers_get_surrogate_names_by_default(tmp_path: Path):
    """Surrogate mode (the default): speakers are fake names of the same shape (老周 -> 老X, 小林 -> 小X), the
    same fake for the same person, no brackets, and the fakes are listed for the reply guard."""
    result = run_ingest(lab(tmp_path, [{"path": str(EXPORTS / "memotrace_utf8.csv")}]), progress=False)
    contexts = _user_contexts(result)
    opener = next(c for c in contexts if "周六谁来打球" in c)
    (first, _), (second, _) = (line.split(": ", 1) for line in opener.splitlines()[:2])
    assert first.startswith("老") and second.startswith("小") and first != "老周" and second != "小林", opener
    assert not any("[NAME" in c for c in contexts)
    fakes = json.loads((result.data_dir / "surrogate_names.json").read_text("utf-8"))["names"]
    assert first in fakes and second in fakes


def test_dialogue_transcript_needs_me_and_reports_who_was_seen(tmp_path: Path):
    with pytest.raises(IngestError) as info:
        run_ingest(lab(tmp_path, [{"path": str(EXPORTS / "dialogue.jsonl")}]), progress=False)
    assert "cannot tell which messages are yours" in str(info.value) and "Ann" in str(info.value)
    result = run_ingest(lab(tmp_path, [{"path": str(EXPORTS / "dialogue.jsonl")}], me=["Bob"],
                            privacy={"mask_contact_names": False}), progress=False)
    assert_accounting(result.report)
    assert result.report["pairs"]["replies"] == 3


def test_a_broken_file_is_reported_and_the_rest_still_ingested(tmp_path: Path):
    broken = tmp_path / "broken.csv"
    broken.write_text("foo,bar\n1,2\n", "utf-8")
    result = run_ingest(lab(tmp_path, [{"path": str(broken)}, {"path": str(EXPORTS / "wechat_current.csv")}]),
                        progress=False)
    assert any("broken.csv" in e and "unknown export format" in e for e in result.report["errors"])
    assert result.report["files"][0]["read"] == 0


def test_nothing_usable_fails_naming_each_file(tmp_path: Path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(IngestError) as info:
        run_ingest(lab(tmp_path, [{"path": str(empty)}, {"path": str(tmp_path / "missing.json")}]), progress=False)
    assert "empty.csv" in str(info.value) and "missing.json" in str(info.value)
    assert not (tmp_path / "ws" / "data" / "chat_train.jsonl").exists()  # no half-written outputs


def test_rerun_is_deterministic(tmp_path: Path):
    sources = [{"path": str(EXPORTS / "wechat_current.csv")}, {"path": str(EXPORTS / "wechat_pages")}]
    first = run_ingest(lab(tmp_path, sources), progress=False).files["chat_train.jsonl"].read_bytes()
    second = run_ingest(lab(tmp_path, sources), progress=False).files["chat_train.jsonl"].read_bytes()
    assert first == second


def test_page_folder_sorts_numerically_even_when_copied(tmp_path: Path):
    folder = tmp_path / "pages"
    shutil.copytree(EXPORTS / "wechat_pages", folder)
    from persona_lab.ingest.stage import expand_sources

    files = expand_sources(lab(tmp_path, [{"path": str(folder)}]))
    assert [p.name for p, _, _ in files] == [
        "wxid_dage_0_5000.csv", "wxid_dage_5000_10000.csv", "wxid_dage_10000_15000.csv"]
