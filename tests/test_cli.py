from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from persona_lab.cli import main
from persona_lab.config import ConfigError, load_config
from tests.conftest import FIXTURES, ROOT, shared_file

HEAVY = ("torch", "transformers", "peft", "trl", "jieba", "sklearn", "sentence_transformers", "gradio", "matplotlib")


def test_help_imports_nothing_heavy():
    """--help answers at once because the CLI imports no heavy library until a command needs one (the time
    itself is measured by eval/bench_cli.py, not asserted here)."""
    code = ("import sys; from persona_lab.cli import build_parser; text = build_parser().format_help(); "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules)); print('ingest' in text and 'serve' in text)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["[]", "True"]


def test_unknown_config_key_names_key_and_file(tmp_path: Path):
    path = tmp_path / "lab.yaml"
    path.write_text("name: x\ningest:\n  merge_windw_s: 60\nfacetz: {}\n", "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message and "ingest.merge_windw_s" in message and "'facetz'" in message


def test_demo_config_is_valid():
    config = load_config(ROOT / "configs" / "demo.yaml")
    assert config.name == "demo" and config.workspace_dir == Path("results/demo")


def test_adhoc_ingest_writes_into_out_dir(tmp_path: Path, capsys):
    code = main(["ingest", str(FIXTURES / "exports" / "wechat_current.csv"), "--out", str(tmp_path / "lab"), "--quiet"])
    assert code == 0
    assert (tmp_path / "lab" / "data" / "chat_train.jsonl").exists()
    assert "read 12 records = kept 9 + dropped 3" in capsys.readouterr().out


def test_nothing_usable_exits_non_zero_with_the_file_named(tmp_path: Path, capsys):
    junk = tmp_path / "notes.txt"
    junk.write_text("just some notes\nnothing like a chat\n", "utf-8")
    assert main(["ingest", str(junk), "--out", str(tmp_path / "lab"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "notes.txt" in err and "unknown export format" in err


def test_joey_transcripts_ingest_with_exact_accounting(tmp_path: Path, capsys):
    friends = shared_file("friends/friends_s01-s08.jsonl")
    assert main(["ingest", str(friends), "--me", "Joey Tribbiani", "--out", str(tmp_path / "joey"), "--quiet"]) == 0
    report = json.loads((tmp_path / "joey" / "data" / "ingest_report.json").read_text("utf-8"))
    total = report["total"]
    assert total["read"] == sum(1 for _ in friends.open(encoding="utf-8"))
    assert total["read"] == total["kept"] + sum(total["dropped"].values())
    assert report["pairs"]["replies"] > 5000 and report["pairs"]["eval"] > 400
