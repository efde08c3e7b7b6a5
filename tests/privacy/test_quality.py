"""Scrubber quality on two labelled sets: tests/fixtures/privacy/pii_labelled.jsonl (made by its generator,
with known names) and public_forms.txt (written by hand from public text forms, no known names).

Matching is span-level with overlap: a gold span counts as found when a predicted span of the SAME type
overlaps it by at least one character; a predicted span is correct when it overlaps a gold span of the
same type. Exact-boundary figures are printed too, for information. Each line's ``known_names`` play the
part of the contacts read from the export.

Thresholds (the issue's quality bar): recall >= 0.99 on PHONE, ID, BANKCARD, EMAIL; >= 0.9 on NAME and
ADDRESS; precision >= 0.95 over all types; look-alike lines kept >= 0.95. Figures are printed (``pytest -s``) and put in every assertion
message.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from persona_lab.privacy import Scrubber
from persona_lab.privacy.labelled import Scores, load_labelled, score

FIXTURES = Path(__file__).parents[1] / "fixtures" / "privacy"
LABELLED = FIXTURES / "pii_labelled.jsonl"
# Written by hand from public text forms, not by make_labelled.py (see the file's source lines).
PUBLIC = FIXTURES / "public_forms.txt"
RECALL_BAR = {"PHONE": 0.99, "ID": 0.99, "BANKCARD": 0.99, "EMAIL": 0.99, "NAME": 0.9, "ADDRESS": 0.9}
PRECISION_BAR = 0.95
KEPT_BAR = 0.95  # look-alike lines left untouched


def load_lines() -> list[dict]:
    return load_labelled(LABELLED)


def ours(text: str, known_names: list[str]) -> list[tuple[int, int, str]]:
    return [(f.start, f.end, f.type) for f in Scrubber(known_names=known_names).find(text)]


@pytest.fixture(scope="module")
def scores() -> Scores:
    result = score(load_lines(), ours)
    print("\nScrubber quality on", LABELLED.name, "(overlap matching)\n" + result.table())
    return result


@pytest.fixture(scope="module")
def public_scores() -> Scores:
    result = score(load_labelled(PUBLIC), ours)
    print("\nScrubber quality on", PUBLIC.name, "(overlap matching)\n" + result.table())
    return result


def test_labelled_set_is_big_and_mixed() -> None:
    lines = load_lines()
    spans = [s for line in lines for s in line["spans"]]
    assert len(spans) >= 300
    assert sum(1 for line in lines if not line["spans"]) >= 100, "look-alike lines that must stay"
    has_cjk = [any("\u4e00" <= ch <= "\u9fff" for ch in line["text"]) for line in lines]
    assert sum(has_cjk) >= 0.4 * len(lines) and sum(not c for c in has_cjk) >= 0.1 * len(lines)
    for line in lines:
        for s in line["spans"]:
            assert 0 <= s["start"] < s["end"] <= len(line["text"]), line
    kinds = Counter(s["type"] for s in spans)
    assert set(kinds) >= {"PHONE", "ID", "BANKCARD", "EMAIL", "URL", "IP", "QQ", "WXID", "PASSWORD", "ADDRESS",
                          "NAME", "PLATE"}


def test_fixture_matches_its_generator() -> None:
    """The committed JSONL is what make_labelled.py writes (so edits go through the script)."""
    spec = importlib.util.spec_from_file_location("make_labelled", FIXTURES / "make_labelled.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build() == load_lines()


@pytest.mark.parametrize("kind", sorted(RECALL_BAR))
def test_recall(scores: Scores, kind: str) -> None:
    assert scores.recall(kind) >= RECALL_BAR[kind], f"{kind} recall below {RECALL_BAR[kind]}\n{scores.table()}"


def test_precision(scores: Scores) -> None:
    assert scores.precision() >= PRECISION_BAR, f"precision below {PRECISION_BAR}\n{scores.table()}"


def test_public_set_is_apart_and_mixed() -> None:
    """The public set has every form the issue names, and none of its lines is in the generated set."""
    lines = load_labelled(PUBLIC)
    kinds = Counter(s["type"] for line in lines for s in line["spans"])
    assert kinds["ADDRESS"] >= 100 and kinds["NAME"] >= 30 and all(kinds[k] >= 7 for k in
                                                                    ("PHONE", "ID", "BANKCARD", "EMAIL"))
    assert sum(1 for line in lines if not line["spans"]) >= 40
    addresses = "".join(line["text"] for line in lines)
    for form in "道街巷弄里村组栋单元号楼室":
        assert form in addresses
    assert all(line["known_names"] == [] for line in lines)
    generated = {line["text"] for line in load_lines()}
    assert not generated & {line["text"] for line in lines}


@pytest.mark.parametrize("kind", ["PHONE", "ID", "BANKCARD", "EMAIL", "ADDRESS"])
def test_public_recall(public_scores: Scores, kind: str) -> None:
    assert public_scores.recall(kind) >= RECALL_BAR[kind], f"{kind} below {RECALL_BAR[kind]}\n{public_scores.table()}"


@pytest.mark.xfail(strict=True, reason="names are found from lists only (contacts, extra_names); no list-free "
                   "name detector yet, see results/BENCHMARKS.md")
def test_public_name_recall(public_scores: Scores) -> None:
    assert public_scores.recall("NAME") >= RECALL_BAR["NAME"], public_scores.table()


def test_public_precision_and_look_alikes(public_scores: Scores) -> None:
    assert public_scores.precision() >= PRECISION_BAR, public_scores.table()
    assert public_scores.kept() >= KEPT_BAR, public_scores.table()


def test_scoring_can_fail() -> None:
    """The scorer itself: a scrubber that finds nothing scores zero recall; a wrong type is a miss."""
    line = {"text": "手机13800138000", "spans": [{"type": "PHONE", "start": 2, "end": 13}]}
    assert score([line], ours).recall("PHONE") == 1.0
    assert score([line], lambda text, names: []).recall("PHONE") == 0.0
    wrong_type = {"text": line["text"], "spans": [{"type": "QQ", "start": 2, "end": 13}]}
    result = score([wrong_type], ours)
    assert result.recall("QQ") == 0.0 and result.precision() == 0.0
