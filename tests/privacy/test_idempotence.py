"""Property tests (hypothesis): scrubbing twice equals scrubbing once, spans are well formed, and the
cheap gate never hides a detection.

Texts are glued from fragments that stress the edges: private values, placeholders already in the text,
names equal to placeholder words ("NAME", "PHONE"), bare brackets, digits and separators that can join
numbers, cue words, CJK and Latin filler.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from persona_lab.privacy import PLACEHOLDERS, Scrubber
from persona_lab.privacy.detectors import PATTERN_DETECTORS, detectors_for, families, fold_width

# Before landing a change to a detector or the gate, run these once with many more examples:
#   PERSONA_LAB_PROPERTY_EXAMPLES=50000 pytest --timeout=0 tests/privacy/test_idempotence.py
# (--timeout=0: the suite's 600 s per test would stop it; 50,000 examples take ~5-15 min a test here)
EXAMPLES = int(os.environ.get("PERSONA_LAB_PROPERTY_EXAMPLES", "1500"))

FRAGMENTS = [
    "13800138000", "138 0013 8000", "+86 ", "010-12345678", "(020) 8888 6666", "+1 415-555-0132",
    "11010519491231002X", "4111 1111 1111 1111", "6222021234567890128", "a.b@example.com", "＠",
    "https://x.cn/a", "www.", ".com", "192.168.1.1", "QQ ", "微信号 ", "wxid_", "_", "密码", "验证码 ", "PIN ",
    "password: ", "建国路", "88号", "3栋", "2单元", "501", "小区", "京A·", "12345", "粤B", "D",
    "张伟", "Jack", "小王", "NAME", "PHONE", "AM", "name", "[", "]", "[", "]",
    *PLACEHOLDERS.values(),
    "0", "1", "9", "00", " ", "-", ".", ":", "，", "X", "x", "是", "在", "的", "号", "a", "Z", "版本",
    "PIN码", "v信", "门禁码", "二十七号", "三区", "3区", "西园", "二期", "A座", "12 Baker Street", "t.cn/", "１３８",
    # full-width and mixed-script forms: the detectors read width-folded text, and so must the gate
    "１２", "Ｂａｋｅｒ Ｓｔｒｅｅｔ", "ｗｗｗ．", "．ｃｏｍ", "（０２０）", "＋８６", "ＱＱ", "ＰＩＮ", "京Ａ", "３栋", "弄", "里", "道",
    "\u00a0", "\t", "٣", "Apt 4B", "St",
]
NAMES = ["张伟", "Jack", "小王", "NAME", "PHONE", "AM", "Jack1", "1Jack", "[NAME]", "王"]
BLOCKED = ["name", "id", "secret plan", "]", "机密"]

texts = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=3), max_size=12).map("".join)
names = st.lists(st.text(alphabet="张伟小王JackNAMEPHONE1[] ", min_size=1, max_size=6), max_size=4)

SCRUBBER = Scrubber(known_names=NAMES, blocked_words=BLOCKED)


def check(scrubber: Scrubber, text: str) -> None:
    once = scrubber.scrub(text)
    twice = scrubber.scrub(once.text)
    assert twice.text == once.text, (text, once.found, twice.found)
    previous_end = 0
    for item in once.found:
        assert previous_end <= item.start < item.end <= len(text)
        assert text[item.start:item.end] == item.value
        previous_end = item.end


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_scrub_is_idempotent(text: str) -> None:
    check(SCRUBBER, text)


@settings(max_examples=400, deadline=None)
@given(texts, names, names)
def test_idempotent_for_any_names(text: str, known: list[str], blocked: list[str]) -> None:
    check(Scrubber(known_names=known, extra_names=known[:1], blocked_words=blocked), text)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
# Found by this test on a fresh clone: the old gate saw only {'num'} here and hid the street address.
@example("13800138000１３８12 Baker Street")
def test_gate_hides_nothing(text: str) -> None:
    """On the text as given and as the scrubber reads it (width-folded), the gate skips no detection."""
    for probe in (text, fold_width(text)):
        ungated = sorted(hit for detect in PATTERN_DETECTORS for hit in detect(probe))
        gated = sorted(hit for detect in detectors_for(probe) for hit in detect(probe))
        assert gated == ungated, (probe, families(probe))


def test_gate_bug_example_is_masked() -> None:
    """The example the suite once found: both the phone and the street address are masked."""
    text = "13800138000１３８12 Baker Street"
    assert {"digits", "addr"} <= families(text)
    masked = SCRUBBER.scrub(text).text
    assert "Baker" not in masked and "13800138000" not in masked, masked


def test_existing_placeholders_survive() -> None:
    text = "".join(PLACEHOLDERS.values())
    assert SCRUBBER.scrub(text).text == text
    assert SCRUBBER.find(text) == []


def test_placeholders_are_not_cue_words() -> None:
    """'[PHONE] 62345678' must not read as the cue word PHONE before a local number."""
    assert SCRUBBER.scrub("[PHONE] 62345678").text == "[PHONE] 62345678"
    once = SCRUBBER.scrub("13800138000 62345678")
    assert [f.value for f in once.found] == ["13800138000"]
    assert SCRUBBER.scrub("[PASSWORD] 1234").found == []


def test_values_glued_together_are_all_found_in_one_pass() -> None:
    """The landline is glued to a digit until the mobile is masked: find() searches again."""
    found = SCRUBBER.find("13800138000(020) 8888 6666")
    assert [(f.type, f.value) for f in found] == [("PHONE", "13800138000"), ("PHONE", "(020) 8888 6666")]
