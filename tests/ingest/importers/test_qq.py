from __future__ import annotations

from pathlib import Path

import pytest

from persona_lab.ingest.importers import IMPORTERS, ReadContext, detect
from persona_lab.ingest.importers.qq import IMPORTER, kind_and_text
from persona_lab.ingest.records import BadRecord, Message
from persona_lab.textio import read_text_head
from tests.conftest import FIXTURES

EXPORTS = FIXTURES / "exports"
FRIEND = EXPORTS / "qq_friend.txt"
GROUP = EXPORTS / "qq_group.txt"
HEADER_BLOCK = (
    "消息记录（此消息记录为文本格式，不支持重新导入）\n\n"
    "================================================================\n"
)


def read_all(path: Path, **ctx) -> list[Message | BadRecord]:
    importer, encoding = detect(path)
    assert importer.name == "qq"
    return list(importer.read(path, ReadContext(encoding=encoding, **ctx)))


def test_friend_export_bodies_kinds_and_senders():
    records = read_all(FRIEND)
    assert all(isinstance(r, Message) for r in records)
    assert [(r.sender, r.sender_id, r.kind, r.text) for r in records] == [
        ("林小雨", "2468013579", "text", "在吗？"),
        ("阿泽", "aze_example@qq.com", "text", "在的，刚下班\n怎么了"),  # email sender, two lines
        ("林小雨", "2468013579", "image", ""),
        ("林小雨", "2468013579", "text", "你看这个猫"),  # inline [表情] removed, text kept
        ("阿泽", "aze_example@qq.com", "sticker", ""),
        ("林小雨", "2468013579", "text", "周末去看它吧\n\n地址我发你"),  # a blank line inside a body
        ("系统消息", "10000", "system", ""),
        ("阿泽", "aze_example@qq.com", "text", "好 9:30 见"),
    ]
    assert [r.row for r in records] == [9, 12, 16, 19, 22, 25, 30, 33]
    assert {(r.chat_id, r.chat_name, r.is_group) for r in records} == {("qq:林小雨", "林小雨", False)}
    assert records[0].ts == 1463778191.0  # 2016-05-20 21:03:11 UTC
    assert all("\r" not in r.text for r in records)  # the fixture has Windows line ends
    assert {r.is_me for r in records} == {None}


def test_local_times_are_read_in_the_lab_timezone():
    records = read_all(FRIEND, timezone="Asia/Shanghai")
    assert records[0].ts == 1463778191.0 - 8 * 3600


def test_group_export_titles_odd_names_and_two_chats_in_one_file():
    records = read_all(GROUP)
    assert [(r.chat_id, r.sender, r.sender_id, r.kind, r.text) for r in records] == [
        ("qq:周末徒步群", "老周", "10001234", "text", "明早七点地铁站集合，别迟到"),  # 【管理员】 dropped
        ("qq:周末徒步群", "阿泽", "aze_example@qq.com", "text", "收到"),
        ("qq:周末徒步群", "山野", "20005678", "image", ""),  # two titles; [图片][表情] alone → image
        ("qq:周末徒步群", "阿杰(老杰)", "30009999", "text", "我带水\n还有\n两个头灯"),
        ("qq:读书会", "40001111", "40001111", "text", "这周读《百年孤独》"),  # no name: the number stands in
        ("qq:读书会", "阿泽", "aze_example@qq.com", "text", "第三章好看"),
    ]
    assert all(r.is_group for r in records)
    assert [r.row for r in records] == [9, 12, 15, 18, 27, 30]
    assert records[0].ts == 1535788805.0  # 2018-09-01 8:00:05 UTC, single-digit hour


@pytest.mark.parametrize("me", [frozenset({"阿泽"}), frozenset({"aze_example@qq.com"})])
def test_is_me_by_name_or_account(me: frozenset[str]):
    records = read_all(GROUP, me=me)
    assert [r.is_me for r in records] == [False, True, False, False, False, True]


def test_folder_decides_group_per_section(tmp_path: Path):
    path = tmp_path / "all.txt"
    path.write_text(
        HEADER_BLOCK
        + "消息分组:我的好友\n================================================================\n"
        "消息对象:小王\n================================================================\n\n"
        "2020-01-01 10:00:00 小王(111111)\n新年好\n\n"
        "================================================================\n"
        "消息分组:我的讨论组\n================================================================\n"
        "消息对象:项目讨论\n================================================================\n\n"
        "2020-01-02 10:00:00 小李(222222)\n开会\n\n",
        "utf-8",
    )
    records = read_all(path)
    assert [(r.chat_id, r.is_group, r.text) for r in records] == [
        ("qq:小王", False, "新年好"),  # the next section's separator lines are not part of the body
        ("qq:项目讨论", True, "开会"),
    ]


def test_gb18030_export_is_detected_and_decoded(tmp_path: Path):
    path = tmp_path / "gbk.txt"
    path.write_bytes(FRIEND.read_text("utf-8").encode("gb18030"))
    importer, encoding = detect(path)
    assert (importer.name, encoding) == ("qq", "gb18030")
    records = read_all(path)
    assert [r.text for r in records][:2] == ["在吗？", "在的，刚下班\n怎么了"]


def test_undecodable_and_impossible_times_are_bad_records(tmp_path: Path):
    path = tmp_path / "bad.txt"
    content = (
        HEADER_BLOCK.encode()
        + "消息分组:我的好友\n=====================\n消息对象:小王\n=====================\n\n".encode()
        + "2020-01-01 10:00:00 小王(111111)\n第一行\n".encode()
        + b"\xff\xfe bad\n\n"
        + "2020-02-30 10:00:00 小王(111111)\n二月三十号\n\n".encode()
        + "2020-03-01 10:00:00 小王(111111)\n好的\n".encode()
    )
    path.write_bytes(content)
    records = list(IMPORTER.read(path, ReadContext(encoding="utf-8")))
    assert [(r.reason, r.row) for r in records if isinstance(r, BadRecord)] == [("undecodable", 9), ("bad_time", 13)]
    assert isinstance(records[2], Message) and records[2].text == "好的"


def test_trimmed_export_without_a_chat_block_is_one_chat_named_after_the_file(tmp_path: Path):
    path = tmp_path / "saved_log.txt"
    path.write_text(
        "=========\n假装我是 QQ 自动生成的文件头\n=========\n\n"
        "1883-03-07 11:22:33 A<someone@example.com>\n关注\n谢谢\n\n"
        "1883-03-07 12:34:56 B(123123)\nTCG\n",
        "utf-8",
    )
    records = read_all(path)
    assert [(r.chat_id, r.sender, r.sender_id, r.text) for r in records] == [
        ("qq:saved_log", "A", "someone@example.com", "关注\n谢谢"),
        ("qq:saved_log", "B", "123123", "TCG"),
    ]


def test_placeholder_rules():
    assert kind_and_text("[图片]") == ("image", "")
    assert kind_and_text("[表情][表情]") == ("sticker", "")
    assert kind_and_text("[表情]\n[图片]") == ("image", "")
    assert kind_and_text("好[表情]") == ("text", "好")
    assert kind_and_text("[链接] 不是占位符") == ("text", "[链接] 不是占位符")
    assert kind_and_text("") == ("empty", "")


@pytest.mark.parametrize("name", ["qq_friend.txt", "qq_group.txt"])
def test_detected_as_qq_and_by_no_other_importer(name: str):
    path = EXPORTS / name
    importer, _ = detect(path)
    assert importer.name == "qq"
    _, head = read_text_head(path)
    suffix = path.suffix.lower()
    others = [n for n in IMPORTERS.names() if n != "qq"]
    assert "whatsapp" in others
    for other in others:
        candidate = IMPORTERS.get(other)
        assert not (suffix in candidate.suffixes and candidate.sniff(path, head)), other


@pytest.mark.parametrize("name", ["whatsapp_ios.txt", "whatsapp_android.txt", "whatsapp_us_ampm.txt"])
def test_qq_sniff_rejects_whatsapp_exports(name: str):
    path = EXPORTS / name
    _, head = read_text_head(path)
    assert not IMPORTER.sniff(path, head)
