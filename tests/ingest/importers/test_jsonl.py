from __future__ import annotations

from pathlib import Path

from persona_lab.ingest.importers import ReadContext, detect
from persona_lab.ingest.records import BadRecord
from tests.conftest import FIXTURES

EXPORTS = FIXTURES / "exports"


def test_dialogue_jsonl_orders_date_only_lines_and_skips_scene_directions():
    importer, encoding = detect(EXPORTS / "dialogue.jsonl")
    assert importer.name == "dialogue-jsonl"
    records = list(importer.read(EXPORTS / "dialogue.jsonl", ReadContext(encoding=encoding, me=frozenset({"Bob"}))))
    assert [r.kind for r in records] == ["text", "system", "text", "text", "text", "text", "text"]
    first_dialogue = records[:5]
    times = [r.ts for r in first_dialogue]
    assert times == sorted(times) and len(set(times)) == 5  # one date for all, order kept by +1 s steps
    assert [r.is_me for r in records if r.kind == "text"] == [False, True, False, True, True, False]
    assert records[6].ts == records[5].ts + 1  # a line without its own time follows its dialogue


def test_dialogue_jsonl_without_me_leaves_identity_open():
    importer, encoding = detect(EXPORTS / "dialogue.jsonl")
    records = list(importer.read(EXPORTS / "dialogue.jsonl", ReadContext(encoding=encoding)))
    assert {r.is_me for r in records} == {None}


def test_lines_jsonl_and_malformed_lines(tmp_path: Path):
    importer, encoding = detect(EXPORTS / "lines.jsonl")
    assert importer.name == "lines-jsonl"
    records = list(importer.read(EXPORTS / "lines.jsonl", ReadContext(encoding=encoding)))
    assert [(r.sender, r.is_me, r.text) for r in records] == [
        ("me", True, "first"), ("Kim", None, "second"), ("me", True, "third")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"sender": "a", "text": "ok"}\n{"sender": "a", "text": \n[1, 2]\n{"sender": 3, "text": "x"}\n',
                   "utf-8")
    records = list(importer.read(bad, ReadContext()))
    assert [(getattr(r, "reason", "ok"), r.row) for r in records] == [
        ("ok", 1), ("malformed_row", 2), ("malformed_row", 3), ("malformed_row", 4)]
    assert all(isinstance(r, BadRecord) for r in records[1:])


def test_dialogue_line_with_null_speaker_is_unattributed_speech(tmp_path: Path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"dialogue_id": "d9", "turn": 1, "speaker": null, "text": "Push her down the stairs!"}\n', "utf-8")
    importer, encoding = detect(path)
    (record,) = importer.read(path, ReadContext(encoding=encoding, me=frozenset({"Joey"})))
    assert (record.kind, record.sender, record.is_me) == ("text", "(unknown speaker)", False)
