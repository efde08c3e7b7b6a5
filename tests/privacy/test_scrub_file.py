"""scrub_file: text and JSONL (text / messages / evaluation items), line counts, errors naming file+line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from persona_lab.privacy import PiiInventory, Scrubber, ScrubInputError, scrub_file

SCRUBBER = Scrubber(known_names=["张伟"])


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_plain_text_one_message_a_line(tmp_path: Path) -> None:
    src = write(tmp_path / "in.txt", ["张伟的手机13800138000", "", "hello", "邮箱a@b.com"])
    report = scrub_file(src, tmp_path / "out.txt", SCRUBBER)
    assert (tmp_path / "out.txt").read_text(encoding="utf-8").splitlines() == [
        "[NAME]的手机[PHONE]", "", "hello", "邮箱[EMAIL]"
    ]
    assert report["format"] == "text"
    assert report["lines_read"] == report["lines_written"] == 4
    assert report["counts"] == {"EMAIL": 1, "NAME": 1, "PHONE": 1}


def test_jsonl_text_field_and_other_fields_kept(tmp_path: Path) -> None:
    rows = [{"id": "m1", "ts": 1710230400, "text": "QQ 123456789", "sender": "张伟"}, {"id": "m2", "text": "ok"}]
    src = write(tmp_path / "msgs.jsonl", [json.dumps(r, ensure_ascii=False) for r in rows])
    report = scrub_file(src, tmp_path / "out.jsonl", SCRUBBER)
    out = read_jsonl(tmp_path / "out.jsonl")
    assert out[0] == {"id": "m1", "ts": 1710230400, "text": "QQ [QQ]", "sender": "张伟"}  # only text fields
    assert out[1] == rows[1]
    assert report["texts_scrubbed"] == 2 and report["texts_changed"] == 1


def test_jsonl_messages_and_eval_items(tmp_path: Path) -> None:
    sample = {"id": "s1", "messages": [
        {"role": "system", "content": "You are me."},
        {"role": "user", "content": "张伟: 你卡号多少"},
        {"role": "assistant", "content": [{"type": "text", "text": "4111 1111 1111 1111"}]},
    ]}
    item = {"id": "e1", "context": [{"role": "user", "content": "邮箱？"}], "reply": "a.b@example.com"}
    src = write(tmp_path / "data.jsonl", [json.dumps(sample, ensure_ascii=False), json.dumps(item, ensure_ascii=False)])
    inventory = PiiInventory(bytes(32))
    report = scrub_file(src, tmp_path / "out.jsonl", SCRUBBER, inventory)
    out = read_jsonl(tmp_path / "out.jsonl")
    assert out[0]["messages"][1]["content"] == "[NAME]: 你卡号多少"
    assert out[0]["messages"][2]["content"][0]["text"] == "[BANKCARD]"
    assert out[1]["reply"] == "[EMAIL]" and out[1]["context"][0]["content"] == "邮箱？"
    assert report["counts"] == {"BANKCARD": 1, "EMAIL": 1, "NAME": 1}
    assert inventory.contains("BANKCARD", "4111111111111111")


def test_format_detected_from_first_line(tmp_path: Path) -> None:
    src = write(tmp_path / "export.data", ['{"text": "手机13800138000"}'])
    assert scrub_file(src, tmp_path / "o", SCRUBBER)["format"] == "jsonl"
    assert read_jsonl(tmp_path / "o") == [{"text": "手机[PHONE]"}]
    src = write(tmp_path / "notes.data", ["{not json", "手机13800138000"])
    assert scrub_file(src, tmp_path / "o2", SCRUBBER)["format"] == "text"


def test_malformed_jsonl_line_names_file_and_line(tmp_path: Path) -> None:
    src = write(tmp_path / "bad.jsonl", ['{"text": "ok"}', '{"text": "13800138000"}', '{"text": broken'])
    out = tmp_path / "out.jsonl"
    with pytest.raises(ScrubInputError, match=r"bad\.jsonl:3: not valid JSON"):
        scrub_file(src, out, SCRUBBER)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]  # no temporary file left behind


def test_non_object_line_and_bad_utf8(tmp_path: Path) -> None:
    src = write(tmp_path / "list.jsonl", ['{"text": "a"}', "[1, 2]"])
    with pytest.raises(ScrubInputError, match=r"list\.jsonl:2: expected a JSON object"):
        scrub_file(src, tmp_path / "o.jsonl", SCRUBBER)
    raw = tmp_path / "gbk.txt"
    raw.write_bytes(b"ok\n" + "手机".encode("gbk") + b"\n")
    with pytest.raises(ScrubInputError, match=r"gbk\.txt:2: not valid UTF-8"):
        scrub_file(raw, tmp_path / "o.txt", SCRUBBER)
    assert issubclass(ScrubInputError, ValueError)


def test_in_place_and_bom(tmp_path: Path) -> None:
    src = tmp_path / "same.txt"
    src.write_bytes(b"\xef\xbb\xbf" + "手机13800138000\r\nok\r\n".encode())
    report = scrub_file(src, src, SCRUBBER)
    assert src.read_text(encoding="utf-8") == "手机[PHONE]\nok\n"
    assert report["lines_read"] == report["lines_written"] == 2


def test_missing_input(tmp_path: Path) -> None:
    with pytest.raises(ScrubInputError, match="no such file"):
        scrub_file(tmp_path / "nope.txt", tmp_path / "o.txt", SCRUBBER)
