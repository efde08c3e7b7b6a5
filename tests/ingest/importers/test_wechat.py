from __future__ import annotations

from pathlib import Path

import pytest

from persona_lab.errors import ExportError
from persona_lab.ingest.importers import ReadContext, detect
from persona_lab.ingest.records import BadRecord, Message
from persona_lab.timeparse import parse_time
from tests.conftest import FIXTURES

EXPORTS = FIXTURES / "exports"


def read_all(path: Path, **ctx) -> list[Message | BadRecord]:
    importer, encoding = detect(path)
    return list(importer.read(path, ReadContext(encoding=encoding, **ctx)))


def test_pywxdump_current_layout_maps_kinds_senders_and_both_time_formats():
    importer, _ = detect(EXPORTS / "wechat_current.csv")
    assert importer.name == "wechat-pywxdump"
    records = read_all(EXPORTS / "wechat_current.csv")
    assert len(records) == 12
    kinds = [r.kind for r in records]
    assert kinds == ["text", "text", "text", "image", "text", "sticker", "text", "text", "system", "text", "text", "text"]
    first = records[0]
    assert (first.chat_id, first.sender, first.is_me, first.text) == ("wechat:wxid_xiaoman01", "小满", False, "今晚吃啥")
    assert records[2].is_me and records[2].text == "或者烤肉, 都行"
    assert records[9].ts == parse_time("2024-03-02 09:15:00")
    assert records[11].text == "多行\n消息" and records[11].row == 13  # the row starts on line 13
    assert not first.is_group


def test_pywxdump_old_layout_reads_json_content():
    importer, _ = detect(EXPORTS / "wechat_old.csv")
    assert importer.name == "wechat-pywxdump"
    records = read_all(EXPORTS / "wechat_old.csv")
    assert [r.text for r in records] == ["周末打球不", "打！", "", "几点"]
    assert records[2].kind == "voice"
    assert records[1].ts == parse_time("2023-08-12 23:22:54")


def test_memotrace_bom_codes_and_group_senders():
    importer, encoding = detect(EXPORTS / "memotrace_utf8.csv")
    assert (importer.name, encoding) == ("wechat-memotrace", "utf-8-sig")
    records = read_all(EXPORTS / "memotrace_utf8.csv")
    assert [r.kind for r in records] == ["text", "text", "text", "pat", "transfer", "text", "quote"]
    assert records[0].is_group and records[0].chat_id == "wechat:12345678@chatroom"
    assert records[0].sender == "老周" and records[1].sender == "小林"  # remark first, nickname second
    assert records[2].is_me and records[2].ts == 1714550460.0


def test_bad_rows_are_counted_records_naming_their_line(tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "id,MsgSvrID,type_name,is_sender,talker,room_name,msg,src,CreateTime\n"
        "1,1,文本,1,我,wxid_a,ok,,2024-01-01 10:00:00\n"
        "2,2,文本,1,我,wxid_a,too,many,fields,here\n"
        "3,3,文本,maybe,我,wxid_a,hm,,2024-01-01 10:00:00\n"
        "4,4,文本,0,a,wxid_a,hi,,yesterday\n",
        encoding="utf-8",
    )
    records = read_all(path)
    assert isinstance(records[0], Message)
    bad = [r for r in records if isinstance(r, BadRecord)]
    assert [(b.reason, b.row) for b in bad] == [("malformed_row", 3), ("malformed_row", 4), ("bad_time", 5)]
    assert "yesterday" in bad[2].detail


def test_wrong_column_set_names_missing_columns(tmp_path: Path):
    path = tmp_path / "x.csv"
    path.write_text("id,MsgSvrID,type_name,is_sender,talker,room_name,msg,src\n1,2,文本,1,a,b,c,d\n", "utf-8")
    with pytest.raises(ExportError, match="unknown export format"):
        detect(path)
    importer, encoding = detect(path, "wechat-pywxdump")
    with pytest.raises(ExportError, match="missing CreateTime"):
        list(importer.read(path, ReadContext(encoding=encoding)))


def test_gb18030_export_is_detected_and_decoded(tmp_path: Path):
    path = tmp_path / "gbk.csv"
    text = (EXPORTS / "wechat_current.csv").read_text("utf-8")
    path.write_bytes(text.encode("gb18030"))
    _importer, encoding = detect(path)
    assert encoding == "gb18030"
    records = read_all(path)
    assert records[4].text == "卧槽这家看着可以的"


def test_undecodable_line_is_a_counted_bad_row(tmp_path: Path):
    path = tmp_path / "mixed.csv"
    good = (EXPORTS / "wechat_current.csv").read_bytes()
    lines = good.split(b"\n")
    lines[2] = lines[2].replace("火锅".encode(), b"\xff\xfe\xfa")
    path.write_bytes(b"\n".join(lines))
    records = read_all(path)
    bad = [r for r in records if isinstance(r, BadRecord)]
    assert [(b.reason, b.row) for b in bad] == [("undecodable", 3)]
    assert len(records) == 12


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary"),
])
def test_empty_and_binary_files_are_refused_by_name(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(ExportError, match=message) as info:
        detect(path)
    assert str(path) in str(info.value)


def test_pywxdump_row_without_room_name_takes_the_chat_from_the_page_file_name(tmp_path: Path):
    header = "id,MsgSvrID,type_name,is_sender,talker,room_name,msg,src,CreateTime\n"
    for name in ("wxid_ab_c9_0_5000.csv", "wxid_ab_c9_5000_10000.csv", "wxid_other_1_0_5000.csv"):
        (tmp_path / name).write_text(header + "1,11,文本,0,,,在吗,,2024-03-01 10:00:00\n", "utf-8")
    chats = {read_all(tmp_path / name)[0].chat_id for name in ("wxid_ab_c9_0_5000.csv", "wxid_ab_c9_5000_10000.csv")}
    assert chats == {"wechat:wxid_ab_c9"}  # both pages of one chat, the wxid's own underscores kept
    assert read_all(tmp_path / "wxid_other_1_0_5000.csv")[0].chat_id == "wechat:wxid_other_1"
