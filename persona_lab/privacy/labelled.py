"""Labelled sets for measuring the detectors: reading them and scoring a detector against them.

Two formats:
- JSONL (``tests/fixtures/privacy/pii_labelled.jsonl``, made by its generator): ``{"text", "spans":
  [{"type", "start", "end"}], "known_names": [...]}`` per line;
- marked text (``public_forms.txt``, written by hand): one message a line, each private value written
  ``⟦TYPE:value⟧``, ``#`` lines are comments. A line without marks holds look-alikes only.

Scoring is span-level with overlap: a gold span is found when a predicted span of the same type overlaps
it by at least one character; a predicted span is correct when it overlaps a gold span of its type.
Look-alike lines are "kept" when nothing at all is predicted in them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_MARK = re.compile(r"⟦([A-Z]+):(.+?)⟧")

# A detector under test: text and its known names -> (start, end, type) spans.
Detect = Callable[[str, list[str]], Iterable[tuple[int, int, str]]]


def parse_marked_line(line: str) -> dict[str, Any]:
    """``"寄到⟦ADDRESS:X路1号⟧"`` -> ``{"text": "寄到X路1号", "spans": [{"type": "ADDRESS", "start": 2, ...}]}``."""
    parts, spans, pos, out = [], [], 0, 0
    for m in _MARK.finditer(line):
        parts.append(line[pos:m.start()])
        out += m.start() - pos
        value = m.group(2)
        spans.append({"type": m.group(1), "start": out, "end": out + len(value)})
        parts.append(value)
        out += len(value)
        pos = m.end()
    parts.append(line[pos:])
    return {"text": "".join(parts), "spans": spans, "known_names": []}


def load_labelled(path: Path) -> list[dict[str, Any]]:
    """The lines of a labelled set in either format (see the module docstring)."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in lines if line.strip()]
    return [parse_marked_line(line) for line in lines if line.strip() and not line.startswith("#")]


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


@dataclass
class Scores:
    """Per type: gold spans, found gold spans, predicted spans, correct predicted spans; look-alike lines."""

    gold: Counter = field(default_factory=Counter)
    found: Counter = field(default_factory=Counter)
    exact: Counter = field(default_factory=Counter)
    predicted: Counter = field(default_factory=Counter)
    correct: Counter = field(default_factory=Counter)
    lookalike_lines: int = 0
    lookalike_kept: int = 0
    misses: list = field(default_factory=list)
    false_alarms: list = field(default_factory=list)

    def recall(self, kind: str) -> float:
        return self.found[kind] / self.gold[kind] if self.gold[kind] else float("nan")

    def type_precision(self, kind: str) -> float:
        return self.correct[kind] / self.predicted[kind] if self.predicted[kind] else float("nan")

    def precision(self) -> float:
        total = sum(self.predicted.values())
        return sum(self.correct.values()) / total if total else float("nan")

    def kept(self) -> float:
        return self.lookalike_kept / self.lookalike_lines if self.lookalike_lines else float("nan")

    def table(self) -> str:
        rows = [f"{'type':9} {'spans':>5} {'recall':>7} {'exact':>6} {'predicted':>9} {'precision':>9}"]
        for kind in sorted(set(self.gold) | set(self.predicted)):
            exact = self.exact[kind] / self.gold[kind] if self.gold[kind] else float("nan")
            rows.append(f"{kind:9} {self.gold[kind]:5d} {self.recall(kind):7.3f} {exact:6.3f} "
                        f"{self.predicted[kind]:9d} {self.type_precision(kind):9.3f}")
        rows.append(f"total spans {sum(self.gold.values())}, predicted {sum(self.predicted.values())}, "
                    f"precision {self.precision():.3f}; look-alike lines kept {self.lookalike_kept}/"
                    f"{self.lookalike_lines}")
        rows += [f"  miss {m}" for m in self.misses[:25]] + [f"  false alarm {f}" for f in self.false_alarms[:25]]
        return "\n".join(rows)


def score(lines: list[dict[str, Any]], detect: Detect) -> Scores:
    """Score ``detect`` on labelled ``lines`` (see the module docstring for the matching rule)."""
    scores = Scores()
    for line in lines:
        text, gold = line["text"], line["spans"]
        found = list(detect(text, line.get("known_names", [])))
        for span in gold:
            kind = span["type"]
            scores.gold[kind] += 1
            same = [f for f in found if f[2] == kind and _overlaps(f[0], f[1], span["start"], span["end"])]
            if same:
                scores.found[kind] += 1
                scores.exact[kind] += any(f[0] == span["start"] and f[1] == span["end"] for f in same)
            else:
                scores.misses.append((kind, text[span["start"]:span["end"]], text))
        for start, end, kind in found:
            scores.predicted[kind] += 1
            if any(s["type"] == kind and _overlaps(start, end, s["start"], s["end"]) for s in gold):
                scores.correct[kind] += 1
            else:
                scores.false_alarms.append((kind, text[start:end], text))
        if not gold:
            scores.lookalike_lines += 1
            scores.lookalike_kept += not found
    return scores
