"""The shapes that cross a stage boundary are read back exactly as they were written, and a malformed
file is refused with its name and line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from persona_lab.workspace import ShapeError, Workspace
from persona_lab.workspace.shapes import (
    EvalItem,
    cached_first_replies,
    load_registry,
    read_eval_items,
    read_reply_cache,
    write_registry_file,
)


def test_eval_items_and_replies_with_unicode_line_breaks_inside_a_message_load_whole(tmp_path: Path):
    # orjson (ingest's writer) leaves \x85 and \u2028 raw; str.splitlines() would cut the line at them
    rows = [{"id": "e1", "context": [{"role": "user", "content": "早\x85上好\u2028吗"}], "reply": "好\x85的"},
            {"id": "e2", "context": [{"role": "user", "content": "在吗"}], "reply": "在"}]
    workspace = Workspace(tmp_path)
    workspace.data.mkdir()
    workspace.chat_eval.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    workspace.replies_dir.mkdir(parents=True)
    workspace.replies("chat").write_bytes(orjson.dumps({"id": "e1", "sample": 0, "reply": "嗯\x85嗯"}) + b"\n")
    workspace.probe_replies("chat").write_bytes(orjson.dumps({"id": "p1", "reply": "not an eval reply"}) + b"\n")
    assert read_eval_items(workspace.chat_eval) == [EvalItem("e1", rows[0]["context"], "好\x85的"),
                                                    EvalItem("e2", rows[1]["context"], "在")]
    assert cached_first_replies(workspace) == {"chat": {"e1": "嗯\x85嗯"}}


def test_reply_cache_keeps_samples_in_order_and_older_lines_are_sample_zero(tmp_path: Path):
    path = tmp_path / "v.jsonl"
    path.write_text('{"id": "a", "sample": 1, "reply": "second"}\n{"id": "a", "reply": "first"}\n', "utf-8")
    assert read_reply_cache(path) == {"a": ["first", "second"]}


def test_a_malformed_line_is_refused_with_file_and_line(tmp_path: Path):
    path = tmp_path / "chat_eval.jsonl"
    path.write_text('{"id": "e1", "reply": "ok"}\n{"id": "e2"}\n', "utf-8")
    with pytest.raises(ShapeError, match=r"chat_eval.jsonl:2: an evaluation item needs 'id' and 'reply'"):
        read_eval_items(path)
    path.write_text('{"id": "e1", "reply": "ok"}\nnot json\n', "utf-8")
    with pytest.raises(ShapeError, match=r"chat_eval.jsonl:2: not JSON"):
        read_eval_items(path)


def test_registry_round_trips_and_a_bad_one_names_the_field(tmp_path: Path):
    workspace = Workspace(tmp_path)
    registry = {"lab": "t", "base_model": "m", "base_path": "/m", "chat_template": None,
                "variants": [{"name": "base", "kind": "base", "path": "/m"},
                             {"name": "chat", "kind": "adapter", "path": "/a", "rank": 8}]}
    write_registry_file(workspace, registry)
    assert load_registry(workspace) == registry
    workspace.variants.write_text('{"lab": "t", "base_model": "m", "base_path": "/m", '
                                  '"variants": [{"name": "x", "kind": "lora", "path": "/a"}]}', "utf-8")
    with pytest.raises(ShapeError, match=r"variants.json: not a variant registry \(variants.0.kind"):
        load_registry(workspace)
    with pytest.raises(Exception, match="kind"):
        write_registry_file(workspace, {**registry, "variants": [{"name": "x", "kind": "lora", "path": "/a"}]})


def test_a_missing_registry_says_which_stage_writes_it(tmp_path: Path):
    from persona_lab.errors import WorkspaceError

    with pytest.raises(WorkspaceError, match="no variant registry yet") as info:
        load_registry(Workspace(tmp_path))
    assert "persona-lab blend" in info.value.hint
