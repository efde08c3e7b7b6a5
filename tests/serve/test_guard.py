"""The reply guard masks private values, tells real leaks (hash in pii_report) from inventions, and
never lets a value through while streaming, however the text is cut."""

from __future__ import annotations

import pytest

from persona_lab.privacy import Found, PiiInventory, Scrubber
from persona_lab.serve.guard import ReplyGuard
from persona_lab.workspace import Workspace

REAL_PHONE, REAL_ID, PARTNER = "13867204519", "510104199706142732", "苏晚晴"
REPLY = (f"我电话是{REAL_PHONE}，你打138 1234 5678也行，身份证{REAL_ID}，跟{PARTNER}说一声，"
         "地址浙江省杭州市西湖区文三路388号枫桥小区3栋2单元601室 ok mail lin.che.dev@example.com bye")


@pytest.fixture
def guard() -> ReplyGuard:
    inventory = PiiInventory(b"k" * 32)
    for kind, value in (("PHONE", REAL_PHONE), ("ID", REAL_ID), ("NAME", PARTNER)):
        inventory.add(Found(kind, value, 0, len(value)))
    return ReplyGuard(Scrubber(), inventory)


def test_masks_and_counts_real_leaks_apart_from_inventions(guard):
    text, _events = guard.check(REPLY)
    for value in (REAL_PHONE, "138 1234 5678", REAL_ID, PARTNER, "文三路388号", "lin.che.dev@example.com"):
        assert value not in text
    assert "[PHONE]" in text and "[ID]" in text and "[NAME]" in text and "[ADDRESS]" in text
    summary = guard.summary()
    assert summary["real_leaks"] == {"PHONE": 1, "ID": 1, "NAME": 1}
    assert summary["invented"] == {"PHONE": 1, "ADDRESS": 1, "EMAIL": 1}


def streamed_without_a_value(guard: ReplyGuard, size: int) -> str:
    """REPLY streamed through the guard in pieces of ``size``; no prefix shown holds a private value."""
    pieces = [REPLY[i:i + size] for i in range(0, len(REPLY), size)]
    shown = ""
    for piece in guard.stream(iter(pieces)):
        shown += piece
        for value in (REAL_PHONE, "138 1234", REAL_ID[:10], PARTNER, "lin.che.dev"):
            assert value not in shown
    return shown


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13])
def test_streaming_never_shows_a_value(guard, size):
    assert streamed_without_a_value(guard, size) == guard.check(REPLY)[0]


def test_switched_off_only_when_asked():
    guard = ReplyGuard(Scrubber(), None, enabled=False)
    assert guard.check(REPLY)[0] == REPLY


def _surrogate_lab(tmp_path):
    """A lab workspace as ingest leaves it in surrogate mode: keyed hashes of real values, the fake names."""
    import json

    from persona_lab.privacy import Surrogates, load_or_create_secret

    secret = load_or_create_secret(tmp_path)
    inventory = PiiInventory(secret)
    for kind, value in (("PHONE", REAL_PHONE), ("NAME", PARTNER)):
        inventory.add(Found(kind, value, 0, len(value)))
    surrogates = Surrogates(secret, real_names=[PARTNER])
    fake_phone, fake_name = surrogates.value("PHONE", REAL_PHONE), surrogates.value("NAME", PARTNER)
    inventory.write_report(tmp_path / "data" / "pii_report.json")
    (tmp_path / "data" / "surrogate_names.json").write_text(json.dumps({"names": [fake_name]}), "utf-8")
    return fake_phone, fake_name


def test_surrogate_mode_masks_with_the_training_fakes_and_no_brackets(tmp_path):
    """A real value in a reply becomes the same fake it has in the training data (a real leak, counted), an
    invented one becomes a fake of its own; nothing is bracketed."""
    fake_phone, fake_name = _surrogate_lab(tmp_path)
    guard = ReplyGuard.for_lab(Workspace(tmp_path), mode="surrogate")
    text, _ = guard.check(f"打{REAL_PHONE}，跟{PARTNER}说一声，或者打138 1234 5678")
    assert REAL_PHONE not in text and PARTNER not in text and "138 1234 5678" not in text
    assert fake_phone in text and fake_name in text and "[" not in text, text
    assert guard.summary() == {"real_leaks": {"PHONE": 1, "NAME": 1}, "invented": {"PHONE": 1}}


def test_a_surrogate_in_a_reply_is_masked_and_counted_as_invented(tmp_path):
    fake_phone, fake_name = _surrogate_lab(tmp_path)
    for mode in ("surrogate", "placeholder"):
        guard = ReplyGuard.for_lab(Workspace(tmp_path), mode=mode)
        text, _ = guard.check(f"{fake_name}的电话是{fake_phone}")
        assert fake_name not in text and fake_phone not in text, (mode, text)
        assert guard.summary() == {"real_leaks": {}, "invented": {"NAME": 1, "PHONE": 1}}, mode


@pytest.mark.parametrize("size", [1, 3, 8])
def test_streaming_with_surrogates_never_shows_a_value(tmp_path, size):
    _surrogate_lab(tmp_path)
    guard = ReplyGuard.for_lab(Workspace(tmp_path), mode="surrogate")
    shown = streamed_without_a_value(guard, size)
    assert shown == guard.check(REPLY)[0] and "[" not in shown
