"""The shipped demo exports (sample/): every planted private value is masked, every look-alike kept.

Reads the raw files directly (the CSV ``msg`` column and the Telegram ``text``), so this checks the
scrubber alone, not the importers. Known names are the demo's contacts, as the ingest stage would pass.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from persona_lab.privacy import Scrubber

SAMPLE = Path(__file__).parents[2] / "sample"
CONTACTS = ["妈妈", "老爸", "赵磊", "苏晚晴", "王经理", "陈思远", "周晓雨", "刘洋", "孙浩", "吴婷", "Maya Chen", "Maya"]

pytestmark = pytest.mark.skipif(not (SAMPLE / "planted_private.json").is_file(), reason="no sample data")


def _telegram_text(text: str | list) -> str:
    if isinstance(text, str):
        return text
    return "".join(part if isinstance(part, str) else part.get("text", "") for part in text)


def sample_messages() -> list[str]:
    messages = []
    for path in sorted(SAMPLE.glob("wechat/*/*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            messages += [row["msg"] for row in csv.DictReader(handle) if row.get("msg")]
    export = json.loads((SAMPLE / "telegram" / "result.json").read_text(encoding="utf-8"))
    messages += [_telegram_text(m["text"]) for m in export["messages"] if m.get("text")]
    return messages


@pytest.fixture(scope="module")
def raw_and_scrubbed() -> tuple[str, str]:
    scrubber = Scrubber(known_names=CONTACTS)
    messages = sample_messages()
    return "\n".join(messages), "\n".join(scrubber.scrub(m).text for m in messages)


def test_planted_private_values_are_masked(raw_and_scrubbed: tuple[str, str]) -> None:
    raw, scrubbed = raw_and_scrubbed
    planted = json.loads((SAMPLE / "planted_private.json").read_text(encoding="utf-8"))
    present = [p for p in planted if p["value"] in raw]
    assert present, "the sample should contain its planted values"
    leaks = [p for p in present if p["value"] in scrubbed]
    assert not leaks


def test_look_alikes_are_kept(raw_and_scrubbed: tuple[str, str]) -> None:
    raw, scrubbed = raw_and_scrubbed
    lookalikes = json.loads((SAMPLE / "planted_lookalikes.json").read_text(encoding="utf-8"))
    present = [p for p in lookalikes if p["value"] in raw]
    assert present
    lost = [p for p in present if p["value"] not in scrubbed]
    assert not lost
