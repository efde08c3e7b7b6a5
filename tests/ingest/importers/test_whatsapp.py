from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from persona_lab.ingest.importers import IMPORTERS, ReadContext, detect
from persona_lab.ingest.importers.whatsapp import IMPORTER, chat_name_of
from persona_lab.ingest.records import BadRecord, Message
from persona_lab.textio import read_text_head
from tests.conftest import FIXTURES

EXPORTS = FIXTURES / "exports"
LRM, NNBSP = "\u200e", "\u202f"


def read_all(path: Path, **ctx) -> list[Message | BadRecord]:
    importer, encoding = detect(path)
    assert importer.name == "whatsapp"
    return list(importer.read(path, ReadContext(encoding=encoding, **ctx)))


def read_text(tmp_path: Path, content: str, name: str = "chat.txt", **ctx) -> list[Message | BadRecord]:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8", newline="")
    return list(IMPORTER.read(path, ReadContext(**ctx)))


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()


def test_ios_group_export_kinds_senders_and_lrm_marks():
    records = read_all(EXPORTS / "whatsapp_ios.txt")
    assert all(isinstance(r, Message) for r in records)
    assert [(r.sender, r.kind) for r in records] == [
        ("Kletter Crew", "system"),  # the encryption notice, written as if the group had said it
        ("Kletter Crew", "system"),  # "\u200eJonas created group": an iOS group event
        ("Kletter Crew", "system"),
        ("Jonas", "text"),
        ("Priya Nair", "text"),
        ("Max", "image"),
        ("Priya Nair", "sticker"),
        ("Jonas", "sticker"),  # GIF
        ("Priya Nair", "voice"),
        ("Jonas", "video"),
        ("Max", "file"),
        ("Jonas", "contact_card"),
        ("Max", "image"),  # <attached: …-PHOTO-….jpg>
        ("Priya Nair", "recall"),
        ("Max", "text"),
    ]
    texts = [r.text for r in records if r.kind == "text"]
    assert texts == [
        "who is in for Saturday?",
        "me!\nbringing the new rope\nand snacks",
        "see you at 10 — don’t be late: the gym opens at 9:45",  # U+200E removed, later ": " kept
    ]
    assert all(LRM not in r.text for r in records)
    assert [r.row for r in records][3:6] == [4, 5, 8]  # continuation lines 6-7 belong to row 5
    assert records[0].ts == utc(2023, 3, 14, 18, 2, 11)
    assert records[-1].ts == utc(2023, 3, 14, 18, 12, 0)
    assert {(r.chat_id, r.chat_name, r.is_group) for r in records} == {("whatsapp:whatsapp_ios", "whatsapp_ios", True)}


def test_android_private_export_media_captions_and_deleted_messages():
    records = read_all(EXPORTS / "whatsapp_android.txt")
    assert [(r.sender, r.kind, r.text) for r in records] == [
        ("", "system", ""),
        ("Lena", "text", "happy new year!! 🎉"),
        ("Max", "text", "happy new year :)\nhow was the party?"),
        ("Lena", "unknown", ""),  # <Media omitted> does not say which media
        ("Lena", "image", ""),  # the caption on the next line does not make it text
        ("Max", "voice", ""),  # PTT-….opus (file attached)
        ("Lena", "recall", ""),
        ("Max", "recall", ""),
        ("Lena", "text", "are you free on friday?\n\nI mean the 17th"),
        ("Max", "text", "yes, after 6"),
    ]
    assert [r.row for r in records] == [1, 2, 3, 5, 6, 8, 9, 10, 11, 14]
    assert records[0].ts == utc(2020, 1, 2, 9, 14)  # 02/01 is day-first because of the 13/01 lines
    assert records[-1].ts == utc(2020, 1, 13, 22, 6)
    assert not any(r.is_group for r in records)
    assert {r.is_me for r in records} == {None}


def test_us_twelve_hour_export_is_month_first_with_narrow_spaces():
    records = read_all(EXPORTS / "whatsapp_us_ampm.txt")
    assert [(r.sender, r.kind, r.ts) for r in records] == [
        ("", "system", utc(2023, 3, 4, 9, 5)),
        ("Dana Whitfield", "text", utc(2023, 3, 4, 9, 5)),
        ("Sam", "text", utc(2023, 3, 4, 12, 0)),  # 12:00 PM is noon
        ("Dana Whitfield", "text", utc(2023, 3, 5, 0, 15)),  # 12:15 AM is just after midnight
        ("Sam", "text", utc(2023, 3, 5, 13, 7)),  # plain space before PM
        ("", "system", utc(2023, 12, 6, 10, 0)),  # 12/6/23: month first
    ]
    assert records[1].text == "hey! are you around this weekend?"
    assert not records[0].is_group


@pytest.mark.parametrize("line,sender,expected", [
    ("25/12/2019, 18:30 - Alice: hi", "Alice", utc(2019, 12, 25, 18, 30)),  # DD/MM/YYYY, HH:MM
    ("06.08.16, 13:23 - Ash Ketchum: Hey guys!", "Ash Ketchum", utc(2016, 8, 6, 13, 23)),  # DD.MM.YY, HH:MM
    ("[21/07/21, 09:03:27] Alice: hi", "Alice", utc(2021, 7, 21, 9, 3, 27)),  # [DD/MM/YY, HH:MM:SS]
    ("2019-01-01 12:00 - John Doe: Hello 😄", "John Doe", utc(2019, 1, 1, 12, 0)),  # YYYY-MM-DD HH:MM
    ("[1.1.2019, 12.00.00] John Doe: Hello 😄", "John Doe", utc(2019, 1, 1, 12, 0)),  # dotted iOS time
    ("[15-01-20 02:22:56] John: hi", "John", utc(2020, 1, 15, 2, 22, 56)),
    ("[12.3.2022 klo 14.08.18] Aino: moi", "Aino", utc(2022, 3, 12, 14, 8, 18)),  # Finnish
    ("1/15/20, 3:45\u202fPM - Alice: hi", "Alice", utc(2020, 1, 15, 15, 45)),  # M/D/YY with U+202F
    ("[1/15/20, 3:45:10 AM] Alice: hi", "Alice", utc(2020, 1, 15, 3, 45, 10)),  # iOS US with seconds
])
def test_every_timestamp_style(tmp_path: Path, line: str, sender: str, expected: float):
    records = read_text(tmp_path, line + "\n")
    assert len(records) == 1
    message = records[0]
    assert isinstance(message, Message)
    assert (message.ts, message.sender, message.kind) == (expected, sender, "text")
    assert message.text == line.split(": ", 1)[1]


def test_day_month_order_is_decided_per_file(tmp_path: Path):
    month_first = read_text(tmp_path, "01/02/2020, 10:00 - A: x\n12/25/2020, 10:00 - A: y\n", "m.txt")
    assert [r.ts for r in month_first] == [utc(2020, 1, 2, 10), utc(2020, 12, 25, 10)]
    day_first_default = read_text(tmp_path, "01/02/2020, 10:00 - A: x\n03/04/2020, 10:00 - A: y\n", "d.txt")
    assert [r.ts for r in day_first_default] == [utc(2020, 2, 1, 10), utc(2020, 4, 3, 10)]
    conflicting = read_text(tmp_path, "13/01/2020, 10:00 - A: x\n01/13/2020, 10:00 - A: y\n", "c.txt")
    assert isinstance(conflicting[0], Message) and conflicting[0].ts == utc(2020, 1, 13, 10)
    assert isinstance(conflicting[1], BadRecord) and (conflicting[1].reason, conflicting[1].row) == ("bad_time", 2)


def test_order_evidence_counts_on_lines_that_start_with_lrm(tmp_path: Path):
    # 12-hour slashed stamps default to month-first; the 13 on the U+200E-led media line says day-first.
    content = f"{LRM}[13/01/20, 10:00:00 AM] A: {LRM}image omitted\n[01/02/20, 10:00:00 AM] A: x\n"
    records = read_text(tmp_path, content)
    assert [(r.kind, r.ts) for r in records] == [("image", utc(2020, 1, 13, 10)), ("text", utc(2020, 2, 1, 10))]


def test_timezone_and_crlf_lines(tmp_path: Path):
    records = read_text(tmp_path, "25/12/2019, 18:30 - Alice: hi\r\nthere\r\n", timezone="Europe/Berlin")
    assert records[0].text == "hi\nthere"
    assert records[0].ts == utc(2019, 12, 25, 17, 30)


def test_is_me_from_configured_names(fixtures: Path):
    path = fixtures / "exports" / "whatsapp_android.txt"
    records = read_all(path, me=frozenset({"Max"}))
    assert [(r.sender, r.is_me) for r in records[:3]] == [("", False), ("Lena", False), ("Max", True)]


def test_group_detected_from_a_system_line_with_two_authors(tmp_path: Path):
    content = (
        "05/05/2021, 10:00 - Ana created group \"Book club\"\n"
        "05/05/2021, 10:01 - Ana: welcome!\n"
        "05/05/2021, 10:02 - Bo: thanks\n"
    )
    assert all(r.is_group for r in read_text(tmp_path, content, "g.txt"))
    private = "05/05/2021, 10:01 - Ana: welcome!\n05/05/2021, 10:02 - Bo: thanks\n"
    assert not any(r.is_group for r in read_text(tmp_path, private, "p.txt"))


def test_unsaved_contact_tilde_is_dropped_from_the_author(tmp_path: Path):
    records = read_text(tmp_path, f"[05/05/2021, 10:01:00] ~{NNBSP}Ana Lima: hola\n")
    assert records[0].sender == "Ana Lima"


def test_undecodable_line_fails_only_its_message(tmp_path: Path):
    path = tmp_path / "chat.txt"
    raw = (EXPORTS / "whatsapp_android.txt").read_bytes().replace(b"how was the party?", b"how was \xff\xfe party?")
    path.write_bytes(raw)
    records = list(IMPORTER.read(path, ReadContext(encoding="utf-8")))
    assert len(records) == 10
    bad = [(r.reason, r.row) for r in records if isinstance(r, BadRecord)]
    assert bad == [("undecodable", 3)]  # the message starting on line 3, whose line 4 is bad
    assert records[3].kind == "unknown"


def test_lines_before_the_first_timestamp_are_counted(tmp_path: Path):
    records = read_text(tmp_path, "exported by a helper\n25/12/2019, 18:30 - Alice: hi\n")
    assert isinstance(records[0], BadRecord) and (records[0].reason, records[0].row) == ("malformed_row", 1)
    assert isinstance(records[1], Message) and records[1].text == "hi"


def test_chat_is_named_after_the_file(tmp_path: Path):
    assert chat_name_of(Path("WhatsApp Chat with Lena.txt")) == "Lena"
    assert chat_name_of(Path("exports/WhatsApp Chat - Kletter Crew/_chat.txt")) == "Kletter Crew"
    records = read_text(tmp_path, "25/12/2019, 18:30 - Alice: hi\n", "WhatsApp Chat with Alice.txt")
    assert (records[0].chat_id, records[0].chat_name) == ("whatsapp:Alice", "Alice")


@pytest.mark.parametrize("name", ["whatsapp_ios.txt", "whatsapp_android.txt", "whatsapp_us_ampm.txt"])
def test_detected_as_whatsapp_and_by_no_other_importer(name: str):
    path = EXPORTS / name
    importer, _ = detect(path)
    assert importer.name == "whatsapp"
    _, head = read_text_head(path)
    suffix = path.suffix.lower()
    others = [n for n in IMPORTERS.names() if n != "whatsapp"]
    assert "qq" in others
    for other in others:
        candidate = IMPORTERS.get(other)
        assert not (suffix in candidate.suffixes and candidate.sniff(path, head)), other


@pytest.mark.parametrize("name", ["qq_friend.txt", "qq_group.txt", "telegram_single.json"])
def test_whatsapp_sniff_rejects_other_exports(name: str):
    path = EXPORTS / name
    _, head = read_text_head(path)
    assert not IMPORTER.sniff(path, head)
