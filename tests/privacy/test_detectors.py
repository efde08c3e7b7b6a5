"""Targeted cases per detector: what must be masked (with its exact value) and look-alikes that must stay.

Numbers here are fake but format-valid (IDs checked with GB 11643, cards with Luhn), made for these tests.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from persona_lab.privacy import PLACEHOLDERS, Scrubber
from persona_lab.privacy.checks import gb11643_check_char, is_valid_bank_card, is_valid_cn_id, luhn_ok
from persona_lab.privacy.detectors import (
    FAMILIES,
    PATTERN_DETECTORS,
    detectors_for,
    families,
    fold_width,
    trigger,
)
from persona_lab.privacy.labelled import load_labelled

ID_X = "11010519491231002X"  # the standard's own example; check character X
ID_DIGIT = "440106198212018141"
CARD_16 = "4111111111111111"
CARD_19 = "6222021234567890128"
BAD_ID = ID_DIGIT[:17] + "2"
BAD_CARD = CARD_16[:15] + "2"

SCRUBBER = Scrubber()

POSITIVE = [
    # phones: mainland mobile in its written forms, landlines, +86, international, US domestic
    ("PHONE", "我手机13800138000，到了打我", "13800138000"),
    ("PHONE", "号码 138 0013 8000 存一下", "138 0013 8000"),
    ("PHONE", "138-0013-8000是我", "138-0013-8000"),
    ("PHONE", "call +86 13800138000 now", "+86 13800138000"),
    ("PHONE", "打+86-138-0013-8000", "+86-138-0013-8000"),
    ("PHONE", "座机010-12345678找我", "010-12345678"),
    ("PHONE", "电话(020) 8888 6666转分机", "(020) 8888 6666"),
    ("PHONE", "办公室0755-86013388", "0755-86013388"),
    ("PHONE", "ring +1 415-555-0132 later", "+1 415-555-0132"),
    ("PHONE", "UK office +44 20 7946 0958.", "+44 20 7946 0958"),
    ("PHONE", "her cell (212) 555-0187", "(212) 555-0187"),
    ("PHONE", "电话 6234 5678（家里）", "6234 5678"),
    ("PHONE", "电话13912345678微信同号", "13912345678"),
    # ID numbers: plain, with X, lower-case x, written with spaces
    ("ID", f"身份证{ID_X}帮我订票", ID_X),
    ("ID", f"身份证 {ID_X.lower()} 对吗", ID_X.lower()),
    ("ID", f"ID: {ID_DIGIT}", ID_DIGIT),
    ("ID", f"号码 {ID_X[:6]} {ID_X[6:14]} {ID_X[14:]} 你核对", f"{ID_X[:6]} {ID_X[6:14]} {ID_X[14:]}"),
    # bank cards: 16 and 19 digits, spaces and dashes
    ("BANKCARD", f"卡号{CARD_16}", CARD_16),
    ("BANKCARD", "卡号 4111 1111 1111 1111 转这个", "4111 1111 1111 1111"),
    ("BANKCARD", "card 4111-1111-1111-1111 exp 08/27", "4111-1111-1111-1111"),
    ("BANKCARD", f"工行{CARD_19}", CARD_19),
    ("BANKCARD", "卡 6222 0212 3456 7890 128 收款", "6222 0212 3456 7890 128"),
    # emails, URLs, IPs
    ("EMAIL", "邮箱zhang.san@example.com谢谢", "zhang.san@example.com"),
    ("EMAIL", "Email:JOEY.LIN@EXAMPLE.COM", "JOEY.LIN@EXAMPLE.COM"),
    ("EMAIL", "发到 zhang_san＠163.com 哦", "zhang_san＠163.com"),
    ("URL", "链接 https://github.com/foo/bar。你看", "https://github.com/foo/bar"),
    ("URL", "看www.example.cn/p/abc", "www.example.cn/p/abc"),
    ("URL", "my blog: example.com/me", "example.com/me"),
    ("IP", "服务器IP是192.168.1.10.", "192.168.1.10"),
    ("IP", "ssh 到10.0.0.1就行", "10.0.0.1"),
    # values after cue words
    ("QQ", "我QQ号：123456789，加我", "123456789"),
    ("QQ", "加我扣扣 10001", "10001"),
    ("QQ", "群号 654321987 加一下", "654321987"),
    ("WXID", "微信号 zhang_san88 加一下", "zhang_san88"),
    ("WXID", "WeChat ID: joeyzhang", "joeyzhang"),
    ("WXID", "加我vx lily-2024", "lily-2024"),
    ("WXID", "wxid_abc12345xyz 是他", "wxid_abc12345xyz"),
    ("WXID", "搜这个lily_505加我微信", "lily_505"),
    ("PASSWORD", "支付密码是 Abc@123 别告诉别人", "Abc@123"),
    ("PASSWORD", "验证码：382915，5分钟内有效", "382915"),
    ("PASSWORD", "password: hunter2", "hunter2"),
    ("PASSWORD", "PIN码1234", "1234"),
    ("PASSWORD", "the PIN is 0427", "0427"),
    ("PASSWORD", "wifi密码 88888888", "88888888"),
    ("PASSWORD", "提取码 x7k9", "x7k9"),
    # addresses
    ("ADDRESS", "我住在北京市朝阳区建国路88号SOHO现代城5号楼1单元1203室，来玩",
     "北京市朝阳区建国路88号SOHO现代城5号楼1单元1203室"),
    ("ADDRESS", "寄到浦东新区张杨路500号，收件人写我", "浦东新区张杨路500号"),
    ("ADDRESS", "幸福小区3栋2单元501，门口有保安", "幸福小区3栋2单元501"),
    ("ADDRESS", "公司在北京市海淀区中关村大街二十七号", "北京市海淀区中关村大街二十七号"),
    ("ADDRESS", "宿舍是8栋302", "8栋302"),
    ("ADDRESS", "我住在和平路12号", "和平路12号"),
    ("ADDRESS", "家在阳光花园二期3栋1单元", "阳光花园二期3栋1单元"),
    ("ADDRESS", "send it to 221B Baker Street, London", "221B Baker Street"),
    ("ADDRESS", "at 1600 Amphitheatre Parkway", "1600 Amphitheatre Parkway"),
    # licence plates
    ("PLATE", "车牌京A·12345，白色", "京A·12345"),
    ("PLATE", "我的车是粤B12345", "粤B12345"),
    ("PLATE", "新能源沪AD12345", "沪AD12345"),
    ("PLATE", "车牌苏E·A1234", "苏E·A1234"),
]

NEGATIVE = [
    "订单号 20240312887766554433，麻烦查一下",
    "一共¥1,280.00，AA每人320元",
    "这个包3999元，太贵了",
    "2024-03-12 14:30 开会",
    "2024年3月12日下午三点",
    f"身份证号好像不对：{BAD_ID}",
    f"卡号{BAD_CARD}是错的吧",
    "订单编号 4111111111111111",  # Luhn-valid, but an order number by its cue
    "运单号：SF1234567890123",
    "升级到 v2.3.1 了，版本 1.2.3.4 有bug",
    "今年2026年了",
    "房间26度，好热",
    "考了98分，比分3:2",
    "时间戳1710230400，毫秒1710230400123",
    "客服电话400-820-8820",
    "打95588问问，12306抢不到票",
    "股票600519又涨了",
    "iPhone 15 Pro Max 256G",
    "身高175cm体重65kg",
    "坐标39.9042, 116.4074",
    "我在3楼等你，地铁2号线换乘",
    "公园3号门集合",
    "3号见",
    "密码错误，请重试",
    "password is wrong again",
    "The PIN is on the back",
    "加我微信 thanks",
    "我的QQ空间好久没更新了",
    "验证码 3 分钟内有效",
    "Meeting at 14:30, room 3",
    "It costs $1,299.99",
    "12345678901 这个数字好怪",
    "会议号 123 456 789",
    "Chrome 120.0.6099.109",
    "手机尾号 8000 的那个是我",
    "这个月工资 12,580.00，房租交了 4500",
    # an area word, then a date (号 = day of the month), not a house number
    "我们小区周五3号开会",
    "这个区域下周三5号封路",
    "开发区明天1号放假",
    "小区物业说3号楼停电",
]


@pytest.mark.parametrize(("kind", "text", "value"), POSITIVE, ids=[f"{k}:{t[:18]}" for k, t, _ in POSITIVE])
def test_detects_value(kind: str, text: str, value: str) -> None:
    found = SCRUBBER.find(text)
    assert [(f.type, f.value) for f in found] == [(kind, value)], found
    f = found[0]
    assert text[f.start:f.end] == value
    assert SCRUBBER.scrub(text).text == text.replace(value, PLACEHOLDERS[kind], 1)


@pytest.mark.parametrize("text", NEGATIVE)
def test_look_alikes_stay(text: str) -> None:
    assert SCRUBBER.find(text) == []
    assert SCRUBBER.scrub(text).text == text


def gated_equals_ungated(text: str) -> None:
    """The cheap gate may only skip detectors that would find nothing."""
    ungated = sorted(hit for detect in PATTERN_DETECTORS for hit in detect(text))
    gated = sorted(hit for detect in detectors_for(text) for hit in detect(text))
    assert gated == ungated, f"gate families {families(text)} hid {set(ungated) - set(gated)}"
    folded = fold_width(text)
    if folded != text:
        gated_equals_ungated(folded)


@pytest.mark.parametrize("text", NEGATIVE + [t for _, t, _ in POSITIVE])
def test_gate_never_hides_a_detection(text: str) -> None:
    gated_equals_ungated(text)


def test_gate_never_hides_a_detection_in_the_labelled_sets() -> None:
    for text in _labelled_texts():
        gated_equals_ungated(text)


def _labelled_texts() -> list[str]:
    folder = Path(__file__).parents[1] / "fixtures" / "privacy"
    paths = [folder / "pii_labelled.jsonl", *sorted(folder.glob("public_forms*.txt"))]
    return [line["text"] for path in paths for line in load_labelled(path)]


CUE_WINDOW = 40  # cue words (QQ, 密码, 微信号 …) sit next to the value, within a few characters


def test_every_hit_contains_its_family_trigger() -> None:
    """How the gate is derived: each family's trigger occurs inside every hit of each of its detectors, or
    in the cue word next to it (on width-folded text, as the scrubber reads it). A detector widened
    without its trigger fails here."""
    texts = NEGATIVE + [t for _, t, _ in POSITIVE] + _labelled_texts()
    checked = 0
    for family, (detectors, _) in FAMILIES.items():
        pattern = trigger(family)
        for text in map(fold_width, texts):
            for detect in detectors:
                for start, end, kind, _ in detect(text):
                    assert pattern.search(text, max(0, start - CUE_WINDOW), end + CUE_WINDOW), (family, kind, text[start:end], text)
                    checked += 1
    assert checked > 500


def test_every_detector_has_a_family() -> None:
    assert {d for detectors, _ in FAMILIES.values() for d in detectors} == set(PATTERN_DETECTORS)


def test_gate_is_empty_for_plain_chat() -> None:
    for text in ["哈哈哈今天好累啊，晚上一起吃饭吗？", "Sounds good, see you tonight!", "好的，3点见"]:
        assert families(text) == set()


def test_check_digit_helpers() -> None:
    assert gb11643_check_char(ID_X[:17]) == "X"
    assert is_valid_cn_id(ID_X) and is_valid_cn_id(ID_X.lower()) and not is_valid_cn_id(BAD_ID)
    assert not is_valid_cn_id("110105" + "20991231" + "0021")  # birth date in the future
    assert not is_valid_cn_id("110105" + "19490231" + "0021")  # no 31st of February
    assert luhn_ok(CARD_16) and not luhn_ok(BAD_CARD)
    assert is_valid_bank_card("4111 1111 1111 1111") and not is_valid_bank_card("1111111111111117")
    assert is_valid_bank_card("６２２２０２１２３４５６７８９０１２８")  # full-width digits


def test_full_width_digits_are_digits() -> None:
    found = SCRUBBER.find("手机１３８００１３８０００")
    assert [(f.type, f.value) for f in found] == [("PHONE", "１３８００１３８０００")]


def test_overlap_prefers_longer_then_more_specific() -> None:
    # The phone inside an email is part of the email.
    assert [f.type for f in SCRUBBER.find("13800138000@163.com")] == ["EMAIL"]
    # A number after a password cue is a password, not a phone (same span: the cue is more specific).
    assert [f.type for f in SCRUBBER.find("密码13800138000")] == ["PASSWORD"]
    # An ID number that also passes Luhn is an ID.
    assert [f.type for f in SCRUBBER.find(f"号{ID_X}")] == ["ID"]
    # A contact called 建国 inside an address: the address wins.
    assert [f.type for f in Scrubber(known_names=["建国"]).find("住在建国路88号")] == ["ADDRESS"]


def test_several_values_in_one_message_left_to_right() -> None:
    text = f"张伟手机13800138000，身份证{ID_X}，邮箱a.b@example.com"
    found = Scrubber(known_names=["张伟"]).find(text)
    assert [f.type for f in found] == ["NAME", "PHONE", "ID", "EMAIL"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    assert Scrubber(known_names=["张伟"]).scrub(text).text == "[NAME]手机[PHONE]，身份证[ID]，邮箱[EMAIL]"
