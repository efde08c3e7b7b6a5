"""Names of known contacts, extra names and blocked words: the matching rules in names.py."""

from __future__ import annotations

import pytest

from persona_lab.privacy import Scrubber
from persona_lab.privacy.names import usable_contact_names


def masked(scrubber: Scrubber, text: str) -> str:
    return scrubber.scrub(text).text


def test_contact_filter_drops_short_digit_and_generic_names() -> None:
    names = usable_contact_names(["王", "12345", "妈妈", "Mom", " 张伟 ", "Jack", "  ", "😀😀", "Jill  Smith"])
    assert names == {"张伟", "Jack", "Jill Smith"}


def test_extra_names_are_taken_as_given() -> None:
    s = Scrubber(extra_names=["王", "妈妈"])
    assert masked(s, "妈妈说王来了") == "[NAME]说[NAME]来了"


def test_cjk_names_match_as_substrings() -> None:
    s = Scrubber(known_names=["张伟", "小王"])
    assert masked(s, "张伟说小王子好看") == "[NAME]说[NAME]子好看"


def test_latin_names_are_case_sensitive_whole_words() -> None:
    s = Scrubber(known_names=["Jack", "Will"])
    assert masked(s, "Jack and Jackson; jack; hijack; Will you? I will.") == "[NAME] and Jackson; jack; hijack; [NAME] you? I will."


def test_latin_names_next_to_digits_and_cjk() -> None:
    s = Scrubber(known_names=["Jack"])
    assert masked(s, "跟Jack说") == "跟[NAME]说"
    assert masked(s, "Jack13800138000") == "[NAME][PHONE]"


def test_longest_name_wins() -> None:
    s = Scrubber(known_names=["小明", "王小明", "Jill", "Jill Smith"])
    assert [f.value for f in s.find("王小明和Jill Smith")] == ["王小明", "Jill Smith"]


def test_generic_contact_words_stay() -> None:
    s = Scrubber(known_names=["妈妈", "Mom", "老板", "Boss"])
    assert masked(s, "妈妈说Mom和老板 Boss") == "妈妈说Mom和老板 Boss"


def test_blocked_words_are_case_insensitive() -> None:
    s = Scrubber(blocked_words=["Project Falcon", "公司机密"])
    found = s.find("the project falcon plan is 公司机密, PROJECT FALCON!")
    assert [(f.type, f.value) for f in found] == [
        ("BLOCKED", "project falcon"), ("BLOCKED", "公司机密"), ("BLOCKED", "PROJECT FALCON")
    ]
    assert masked(s, "Project Falcon") == "[BLOCKED]"


def test_names_equal_to_placeholder_words_do_not_corrupt_placeholders() -> None:
    s = Scrubber(known_names=["NAME", "PHONE", "AM"], blocked_words=["name", "id", "[", "]"])
    once = masked(s, "NAME called 13800138000 at 9 AM")
    assert once == "[NAME] called [PHONE] at 9 [NAME]"
    assert masked(s, once) == once


def test_many_names_build_quickly_and_match() -> None:
    names = [f"联系人{i}号" for i in range(5000)] + [f"Member{i}" for i in range(5000)]
    s = Scrubber(known_names=names)
    assert masked(s, "联系人4321号和Member99说") == "[NAME]和[NAME]说"
    assert masked(s, "Member99999") == "Member99999"  # a digit edge must not touch another digit


def test_a_bare_string_is_refused() -> None:
    with pytest.raises(TypeError, match="known_names"):
        Scrubber(known_names="张伟")


def test_huge_contact_lists_still_match_exactly() -> None:
    """Group nicknames bring thousands of names; the index must still find one of them."""
    import random

    from persona_lab.privacy import Scrubber

    rng = random.Random(1)
    ideographs = [chr(c) for c in range(0x4E00, 0x9FA5)]
    names = ["".join(rng.choice(ideographs) for _ in range(rng.choice([2, 3, 4]))) for _ in range(20000)]
    scrubber = Scrubber(known_names=names + [f"User{i}" for i in range(5000)])
    assert scrubber.scrub(f"跟{names[123]}说").text == "跟[NAME]说"
    assert scrubber.scrub("跟User4999说 and User50000").text == "跟[NAME]说 and User50000"
