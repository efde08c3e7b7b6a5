from __future__ import annotations

import json
from pathlib import Path

import pytest

from persona_lab.errors import ExportError
from persona_lab.ingest.importers import IMPORTERS, ReadContext, detect
from persona_lab.ingest.importers.telegram import IMPORTER, flatten_text
from persona_lab.ingest.records import BadRecord, Message
from persona_lab.textio import read_text_head
from tests.conftest import FIXTURES

EXPORTS = FIXTURES / "exports"
SINGLE = EXPORTS / "telegram_single.json"
ACCOUNT = EXPORTS / "telegram_account.json"


def read_all(path: Path, **ctx) -> list[Message | BadRecord]:
    importer, encoding = detect(path)
    assert importer.name == "telegram"
    return list(importer.read(path, ReadContext(encoding=encoding, **ctx)))


def read_until_error(path: Path) -> tuple[list[Message | BadRecord], ExportError]:
    """Everything the importer yields before it raises, and the error."""
    records: list[Message | BadRecord] = []
    with pytest.raises(ExportError) as info:
        for record in IMPORTER.read(path, ReadContext()):
            records.append(record)  # noqa: PERF402 -- list() would lose what came before the error
    return records, info.value


def test_single_chat_kinds_texts_and_senders():
    records = read_all(SINGLE, timezone="Europe/Berlin")
    assert all(isinstance(r, Message) for r in records)
    assert [r.kind for r in records] == [
        "text", "text", "image", "sticker", "call", "voice", "forward", "text", "empty", "system",
        "location", "file", "poll", "sticker", "text",
    ]
    texts = [r.text for r in records if r.kind == "text"]
    assert texts == [
        "morning! did you see the eclipse photos?",
        "not yet, send the good ones: https://example.org/eclipse",  # entity list flattened
        "good night 🌙",
        "ramen it is\nmeet at Ichiran at 7?",
    ]
    # Captions of media and forwarded words are not kept as the sender's text.
    assert [r.text for r in records if r.kind != "text"] == [""] * 11
    first, call = records[0], records[4]
    assert (first.chat_id, first.chat_name, first.is_group) == ("telegram:4815162342", "Lena Petrova", False)
    assert (first.sender, first.sender_id, first.row) == ("Lena Petrova", "user4815162342", 1)
    assert (call.sender, call.sender_id) == ("Max Köhler", "user777000111")  # a service message's actor
    assert [r.row for r in records] == list(range(1, 16))
    assert first.ts == 1677921302.0  # date_unixtime wins over the local "date"
    assert {r.is_me for r in records} == {None}  # a single-chat export does not say who I am


def test_date_without_unixtime_is_read_in_the_lab_timezone():
    berlin = read_all(SINGLE, timezone="Europe/Berlin")[7]
    utc = read_all(SINGLE)[7]
    assert berlin.text == "good night 🌙"
    assert berlin.ts == 1677962400.0  # 2023-03-04 21:40 in Berlin is 20:40 UTC
    assert utc.ts == 1677962400.0 + 3600


@pytest.mark.parametrize("me", [frozenset({"Max Köhler"}), frozenset({"user777000111"})])
def test_single_chat_me_by_configured_name_or_id(me: frozenset[str]):
    records = read_all(SINGLE, me=me)
    by_sender = {(r.sender, r.is_me) for r in records}
    assert by_sender == {("Max Köhler", True), ("Lena Petrova", None)}


def test_full_account_export_streams_every_chat_and_knows_me():
    records = read_all(ACCOUNT)
    assert all(isinstance(r, Message) for r in records)
    summary = [(r.chat_id, r.chat_name, r.is_group, r.sender, r.is_me, r.kind, r.text) for r in records]
    assert summary == [
        ("telegram:4815162342", "Lena Petrova", False, "Lena Petrova", False, "text", "are we still on for saturday?"),
        ("telegram:4815162342", "Lena Petrova", False, "Max Köhler", True, "text", "yes! 10am at the gym"),
        ("telegram:4815162342", "Lena Petrova", False, "Max Köhler", True, "call", ""),
        ("telegram:1500600700", "Climbing Crew", True, "Jonas Berg", False, "system", ""),
        ("telegram:1500600700", "Climbing Crew", True, "Jonas Berg", False, "text", "who has a spare harness?"),
        # a deleted account has "from": null; its id stands in for the name
        ("telegram:1500600700", "Climbing Crew", True, "user999888777", False, "text", "I do"),
        ("telegram:1500600700", "Climbing Crew", True, "Max Köhler", True, "image", ""),
        # chats the account left are read too
        ("telegram:1200300400", "Berlin Bouldering", True, "Max Köhler", True, "text", "bye all, moving to Munich"),
    ]
    assert [r.row for r in records] == list(range(1, 9))
    assert [r.ts for r in records][:2] == [1678300000.0, 1678300030.0]


def test_truncated_single_chat_yields_what_was_read_then_names_the_cut(tmp_path: Path):
    data = SINGLE.read_bytes()
    cut = data.index(b'"id": 106') + 20  # inside message 6
    path = tmp_path / "result.json"
    path.write_bytes(data[:cut])
    records, error = read_until_error(path)
    assert [r.row for r in records] == [1, 2, 3, 4, 5]
    assert records[4].kind == "call"
    assert str(path) in str(error)
    assert "truncated after message 5" in str(error)


def test_truncated_account_export_keeps_the_chats_before_the_cut(tmp_path: Path):
    data = ACCOUNT.read_bytes()
    cut = data.index(b'"text": "I do"')  # inside the third message of the second chat
    path = tmp_path / "result.json"
    path.write_bytes(data[:cut])
    records, error = read_until_error(path)
    assert [(r.chat_id, r.kind) for r in records] == [
        ("telegram:4815162342", "text"), ("telegram:4815162342", "text"), ("telegram:4815162342", "call"),
        ("telegram:1500600700", "system"), ("telegram:1500600700", "text"),
    ]
    assert "truncated after message 5" in str(error) and str(path) in str(error)


def test_file_cut_before_any_message(tmp_path: Path):
    path = tmp_path / "result.json"
    path.write_bytes(SINGLE.read_bytes()[:40])
    records, error = read_until_error(path)
    assert records == []
    assert "truncated after message 0" in str(error)


def test_invalid_json_in_the_middle_is_an_error_after_the_good_messages(tmp_path: Path):
    data = SINGLE.read_bytes()
    cut = data.index(b'"id": 103')
    path = tmp_path / "result.json"
    path.write_bytes(data[:cut] + b"@@" + data[cut:])
    records, error = read_until_error(path)
    assert [r.row for r in records] == [1, 2]
    assert "invalid JSON after message 2" in str(error)


def test_malformed_messages_are_bad_records_with_their_index(tmp_path: Path):
    good = {"id": 1, "type": "message", "date": "2023-01-01T10:00:00", "date_unixtime": "1672567200",
            "from": "A", "from_id": "user1", "text": "hi"}
    messages = [
        good,
        "not an object",
        {"id": 3, "type": "message", "from": "A", "text": "no date"},
        {"type": "message", "date": "2023-01-01T10:00:00", "text": "no id"},
        {"id": 5, "type": "message", "date": "yesterday", "from": "A", "text": "bad date"},
        dict(good, id=6, text="still read"),
    ]
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"name": "A", "type": "personal_chat", "id": 1, "messages": messages}), "utf-8")
    records = list(IMPORTER.read(path, ReadContext()))
    assert len(records) == 6
    bad = [(r.reason, r.row) for r in records if isinstance(r, BadRecord)]
    assert bad == [("malformed_row", 2), ("malformed_row", 3), ("malformed_row", 4), ("bad_time", 5)]
    assert "no date" in records[2].detail and "no id" in records[3].detail
    assert isinstance(records[5], Message) and records[5].text == "still read" and records[5].row == 6


def test_json_that_is_not_a_telegram_export_is_refused_by_name(tmp_path: Path):
    path = tmp_path / "other.json"
    path.write_text('{"version": 2, "items": [1, 2, 3]}', "utf-8")
    with pytest.raises(ExportError, match="not a Telegram export") as info:
        list(IMPORTER.read(path, ReadContext()))
    assert str(path) in str(info.value)


def test_utf8_bom_is_skipped(tmp_path: Path):
    path = tmp_path / "result.json"
    path.write_bytes(b"\xef\xbb\xbf" + SINGLE.read_bytes())
    records = read_all(path)
    assert len(records) == 15 and records[0].text == "morning! did you see the eclipse photos?"


def test_flatten_text_handles_every_shape():
    assert flatten_text("plain") == "plain"
    assert flatten_text(["a ", {"type": "bold", "text": "b"}, {"type": "custom_emoji", "text": "🙂", "document_id": "9"}]) == "a b🙂"
    assert flatten_text([]) == ""
    assert flatten_text(None) == ""


@pytest.mark.parametrize("name", ["telegram_single.json", "telegram_account.json"])
def test_detected_as_telegram_and_by_no_other_importer(name: str):
    path = EXPORTS / name
    importer, _ = detect(path)
    assert importer.name == "telegram"
    _, head = read_text_head(path)
    suffix = path.suffix.lower()
    others = [n for n in IMPORTERS.names() if n != "telegram"]
    assert others, "the registry should list the other importers"
    for other in others:
        candidate = IMPORTERS.get(other)
        assert not (suffix in candidate.suffixes and candidate.sniff(path, head)), other


@pytest.mark.parametrize("name", ["whatsapp_ios.txt", "whatsapp_android.txt", "qq_friend.txt", "qq_group.txt"])
def test_telegram_sniff_rejects_other_exports(name: str):
    path = EXPORTS / name
    _, head = read_text_head(path)
    assert not IMPORTER.sniff(path, head)
