"""The reply caches are JSONL written with ensure_ascii=False: a reply holding a character that
str.splitlines treats as a line break (\x85, \u2028) must read back whole."""

from __future__ import annotations

import json
from pathlib import Path

from persona_lab.workspace.shapes import read_reply_cache


def test_a_reply_with_unicode_line_breaks_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl"
    rows = [{"id": "a", "sample": 0, "reply": "x\x85y\u2028z\x1c"}, {"id": "b", "sample": 0, "reply": "ok"}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    assert read_reply_cache(path) == {"a": ["x\x85y\u2028z\x1c"], "b": ["ok"]}
