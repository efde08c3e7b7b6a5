"""The arena's held-out material is read back exactly as ingest wrote it."""

from __future__ import annotations

from pathlib import Path

import orjson

from persona_lab.arena.battle import load_eval_material


def test_eval_items_with_unicode_line_breaks_inside_a_message_load_whole(tmp_path: Path):
    # orjson (ingest's writer) leaves \x85 and \u2028 raw; str.splitlines() would cut the line at them
    items = [{"id": "e1", "context": [{"role": "user", "content": "早\x85上好\u2028吗"}], "reply": "好\x85的"},
             {"id": "e2", "context": [{"role": "user", "content": "在吗"}], "reply": "在"}]
    data = tmp_path / "data"
    data.mkdir()
    (data / "chat_eval.jsonl").write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in items))
    (tmp_path / "eval" / "replies").mkdir(parents=True)
    (tmp_path / "eval" / "replies" / "chat.jsonl").write_bytes(
        orjson.dumps({"id": "e1", "sample": 0, "reply": "嗯\x85嗯"}) + b"\n")
    loaded, cached = load_eval_material(tmp_path)
    assert loaded == items
    assert cached["chat"]["e1"] == "嗯\x85嗯"
