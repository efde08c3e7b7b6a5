"""Surrogates: consistent (same value, same fake), never shared by two values, of the same type and shape,
recognised by the scrubber as their type (so the reply guard masks them), and chosen by keyed hash."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import phonenumbers
import pytest

from persona_lab.privacy import Scrubber, Surrogates
from persona_lab.privacy.checks import ascii_digits, is_valid_bank_card, is_valid_cn_id
from persona_lab.privacy.fakes import (
    CN_GIVEN,
    CN_SURNAMES,
    EMAIL_DOMAINS,
    IP_PREFIXES,
    UNASSIGNED_ID_PROVINCES,
)
from persona_lab.privacy.labelled import load_labelled

SECRET = b"s" * 32
FIXTURES = Path(__file__).parents[1] / "fixtures" / "privacy"


def _labelled_values() -> list[tuple[str, str]]:
    values = []
    for path in (FIXTURES / "pii_labelled.jsonl", FIXTURES / "public_forms.txt"):
        for line in load_labelled(path):
            values += [(s["type"], line["text"][s["start"]:s["end"]]) for s in line["spans"]]
    return values


def test_same_value_same_surrogate_in_any_layout() -> None:
    surrogates = Surrogates(SECRET)
    a, b = surrogates.value("PHONE", "13800138000"), surrogates.value("PHONE", "138 0013 8000")
    assert ascii_digits(a) == ascii_digits(b) and b[3] == " " and b[8] == " "
    assert surrogates.value("NAME", "苏晚晴") == surrogates.value("NAME", "苏晚晴")
    # a fresh instance with the same secret (a re-run) chooses the same; another secret does not
    assert Surrogates(SECRET).value("PHONE", "13800138000") == a
    assert Surrogates(b"t" * 32).value("PHONE", "13800138000") != a


def test_two_values_never_share_a_surrogate() -> None:
    """1,000 two-character names draw from ~15,000 fakes: collisions would happen without the owner check."""
    names = ["".join(pair) for pair in itertools.islice(itertools.product(CN_SURNAMES, CN_GIVEN), 1000)]
    surrogates = Surrogates(SECRET, real_names=names)  # as ingest builds it: the contacts are the real names
    fakes = [surrogates.value("NAME", name) for name in names]
    assert len(set(fakes)) == len(fakes)
    assert not set(fakes) & set(names)


def test_real_names_are_never_handed_out() -> None:
    real = ["".join(pair) for pair in itertools.islice(itertools.product(CN_SURNAMES, CN_GIVEN), 3000)]
    surrogates = Surrogates(SECRET, real_names=real)
    assert not {surrogates.value("NAME", name) for name in real[:300]} & set(real)


@pytest.mark.parametrize(("kind", "value"), _labelled_values(), ids=lambda v: str(v)[:12])
def test_surrogate_has_type_and_shape(kind: str, value: str) -> None:
    fake = Surrogates(SECRET).value(kind, value)
    assert not fake.startswith("["), (kind, value)  # no fallback to a placeholder on these sets
    assert fake != value
    if kind != "NAME":  # names are found from lists; the guard reads surrogate_names.json
        cue = {"PHONE": "电话 ", "QQ": "QQ ", "WXID": "微信号 ", "PASSWORD": "密码 "}.get(kind, "")
        found = [(f.type, f.value) for f in Scrubber().find(cue + fake)]
        if kind == "ADDRESS":
            assert found and {t for t, _ in found} == {"ADDRESS"}, (value, fake)
        else:
            assert found == [(kind, fake)], (value, fake)
    if kind in ("PHONE", "ID", "BANKCARD", "QQ"):  # the layout: separators where they were
        assert re.sub(r"\w", "0", fake) == re.sub(r"\w", "0", value), (value, fake)
    if kind == "NAME":
        assert len(fake.split()) == len(value.split())
        if all("\u4e00" <= ch <= "\u9fff" for ch in value):
            assert len(fake) == len(value) and all("\u4e00" <= ch <= "\u9fff" for ch in fake)


def test_numbers_belong_to_nobody() -> None:
    surrogates = Surrogates(SECRET)
    phone = surrogates.value("PHONE", "13912345678")
    assert not phonenumbers.is_valid_number(phonenumbers.parse(phone, "CN"))  # unallocated prefix
    us = surrogates.value("PHONE", "(415) 555-0132")
    assert ascii_digits(us)[3:8] == "55501"
    person_id = surrogates.value("ID", "11010519491231002X")
    assert is_valid_cn_id(person_id) and person_id[:2] in UNASSIGNED_ID_PROVINCES
    card = surrogates.value("BANKCARD", "6222 0212 3456 7890 128")
    assert is_valid_bank_card(card) and card.startswith("62") and len(card) == len("6222 0212 3456 7890 128")
    assert surrogates.value("EMAIL", "zhang.san@163.com").split("@")[1] in EMAIL_DOMAINS
    assert surrogates.value("IP", "10.75.150.96").startswith(IP_PREFIXES)


def test_address_keeps_its_levels() -> None:
    surrogates = Surrogates(SECRET)
    fake = surrogates.value("ADDRESS", "杭州市西湖区碧桂园24栋4单元1504室")
    assert re.fullmatch(r"..市..区..园\d\d栋\d单元\d{4}室", fake) and "西湖" not in fake, fake
    english = surrogates.value("ADDRESS", "221B Baker Street, Apt 4")
    assert re.fullmatch(r"\d{3}B [A-Z][a-z]+ Street, Apt \d", english) and "Baker" not in english, english


def test_holds_no_raw_value() -> None:
    surrogates = Surrogates(SECRET)
    surrogates.value("PHONE", "13800138000")
    surrogates.value("NAME", "苏晚晴")
    state = repr(vars(surrogates)) if hasattr(surrogates, "__dict__") else ""
    assert "13800138000" not in state and "苏晚晴" not in state
