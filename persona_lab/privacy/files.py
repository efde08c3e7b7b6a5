"""Scrubbing a whole file, streamed line by line: the body of ``persona-lab scrub IN OUT [--report FILE]``.

Formats (decided by suffix: ``.jsonl``/``.json`` are JSONL, ``.txt`` is text; otherwise by the first
non-empty line: a JSON object means JSONL):
- plain text: one message a line; each line is scrubbed as a whole;
- JSONL: in each object, the ``text`` field, every ``content`` of ``messages`` (a string, or a list of
  ``{"type": "text", "text": ...}`` parts), every ``content`` of ``context`` and the ``reply`` of
  evaluation items. Other fields (ids, timestamps, roles, facets) are copied unchanged.

Nothing is dropped: the output has exactly as many lines as the input (blank lines stay blank). Output
is written to a temporary file beside OUT and renamed at the end, so a failure never leaves a half
file, and IN may equal OUT. A line that is not valid UTF-8, or (in JSONL) not a JSON object, raises
``ScrubInputError`` naming the file and line number.

Limits: a ``.json`` file must be JSONL (one object a line), not one big JSON array.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from persona_lab.errors import PersonaLabError
from persona_lab.privacy.inventory import PiiInventory
from persona_lab.privacy.scrubber import Scrubber

JSONL_SUFFIXES = (".jsonl", ".json")


class ScrubInputError(PersonaLabError, ValueError):
    """An input file that cannot be scrubbed; the message names the file and the line."""

    hint = "give a UTF-8 text file (one message a line) or JSONL"


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ScrubInputError(f"{path}:{number}: not valid UTF-8 ({exc.reason})") from None
            yield number, text.rstrip("\r\n")


def detect_format(path: Path) -> str:
    """'jsonl' or 'text'."""
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix == ".txt":
        return "text"
    for _, line in _lines(path):
        if line.strip():
            try:
                return "jsonl" if isinstance(json.loads(line), dict) else "text"
            except ValueError:
                return "text"
    return "text"


class _Scrub:
    """Scrubs strings and keeps the tallies for the report."""

    def __init__(self, scrubber: Scrubber, inventory: PiiInventory | None) -> None:
        self.scrubber, self.inventory = scrubber, inventory
        self.counts: Counter[str] = Counter()
        self.texts = self.changed = 0

    def __call__(self, text: str) -> str:
        result = self.scrubber.scrub(text)
        self.texts += 1
        if result.found:
            self.changed += 1
            for item in result.found:
                self.counts[item.type] += 1
            if self.inventory is not None:
                self.inventory.add_all(result.found)
        return result.text


def _scrub_content(message: Any, scrub: _Scrub) -> None:
    if not isinstance(message, dict):
        return
    content = message.get("content")
    if isinstance(content, str):
        message["content"] = scrub(content)
    elif isinstance(content, list):  # multimodal parts: only text parts carry text
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                part["text"] = scrub(part["text"])


def scrub_record(record: dict[str, Any], scrub: _Scrub) -> None:
    """Scrub every text field of one JSONL record in place."""
    for key in ("text", "reply"):
        if isinstance(record.get(key), str):
            record[key] = scrub(record[key])
    for key in ("messages", "context"):
        if isinstance(record.get(key), list):
            for message in record[key]:
                _scrub_content(message, scrub)


def _scrub_jsonl_line(path: Path, number: int, line: str, scrub: _Scrub) -> str:
    if not line.strip():
        return line
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise ScrubInputError(f"{path}:{number}: not valid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise ScrubInputError(f"{path}:{number}: expected a JSON object per line, got {type(record).__name__}")
    scrub_record(record, scrub)
    return json.dumps(record, ensure_ascii=False)


def scrub_file(
    in_path: Path, out_path: Path, scrubber: Scrubber, inventory: PiiInventory | None = None
) -> dict[str, Any]:
    """Scrub IN into OUT (same format); returns counts by type and lines read/written."""
    in_path, out_path = Path(in_path), Path(out_path)
    if not in_path.is_file():
        raise ScrubInputError(f"{in_path}: no such file")
    fmt = detect_format(in_path)
    scrub = _Scrub(scrubber, inventory)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent)
    read = written = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            for number, line in _lines(in_path):
                read += 1
                if fmt == "jsonl":
                    out.write(_scrub_jsonl_line(in_path, number, line, scrub) + "\n")
                else:
                    out.write(scrub(line) + "\n")
                written += 1
        os.replace(tmp_name, out_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return {
        "input": str(in_path),
        "output": str(out_path),
        "format": fmt,
        "lines_read": read,
        "lines_written": written,
        "texts_scrubbed": scrub.texts,
        "texts_changed": scrub.changed,
        "counts": dict(sorted(scrub.counts.items())),
        "total": sum(scrub.counts.values()),
    }
