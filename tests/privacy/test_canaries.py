"""Canaries: format-valid fake values, reproducible with a seed, detected by the Scrubber."""

from __future__ import annotations

import json
import random
import re

import pytest

from persona_lab.privacy import Scrubber, canary_record, make_canaries, random_canary_value
from persona_lab.privacy.checks import is_valid_cn_id


def test_count_types_and_distinct_values() -> None:
    canaries = make_canaries(40, seed=7)
    assert len(canaries) == 40
    assert {c.type for c in canaries} == {"ID", "PHONE"}
    assert len({c.value for c in canaries}) == 40
    assert len({c.id for c in canaries}) == 40


def test_values_are_format_valid() -> None:
    for canary in make_canaries(60, seed=1):
        if canary.type == "ID":
            assert is_valid_cn_id(canary.value), canary
        else:
            assert re.fullmatch(r"1[3-9]\d{9}", canary.value), canary
        assert canary.value in canary.sentence


def test_every_canary_is_detected_by_the_scrubber() -> None:
    scrubber = Scrubber()
    for canary in make_canaries(100, seed=3):
        found = scrubber.find(canary.sentence)
        assert [(f.type, f.value) for f in found] == [(canary.type, canary.value)], canary
        assert canary.value not in scrubber.scrub(canary.sentence).text


def test_seed_reproduces_and_no_seed_varies() -> None:
    assert make_canaries(10, seed=42) == make_canaries(10, seed=42)
    assert make_canaries(10, seed=42) != make_canaries(10, seed=43)
    assert make_canaries(10) != make_canaries(10)


def test_sentences_in_both_languages() -> None:
    sentences = [c.sentence for c in make_canaries(200, seed=5)]
    assert any(re.search(r"[\u4e00-\u9fff]", s) for s in sentences)
    assert any(s.isascii() for s in sentences)


def test_record_is_json_with_the_values() -> None:
    canaries = make_canaries(4, seed=9)
    record = json.loads(json.dumps(canary_record(canaries), ensure_ascii=False))
    assert record["count"] == 4
    assert [c["value"] for c in record["canaries"]] == [c.value for c in canaries]
    assert set(record["value_space"]) == {"ID", "PHONE"}


def test_reference_values_come_from_the_same_space() -> None:
    rng = random.Random(0)
    assert all(is_valid_cn_id(random_canary_value("ID", rng)) for _ in range(200))
    with pytest.raises(ValueError, match="Unknown canary type"):
        random_canary_value("EMAIL", rng)  # type: ignore[arg-type]


def test_zero_and_negative() -> None:
    assert make_canaries(0, seed=1) == []
    with pytest.raises(ValueError):
        make_canaries(-1)
