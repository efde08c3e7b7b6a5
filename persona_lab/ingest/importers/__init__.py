"""Importers: one module per export format, found by name in ``IMPORTERS`` or detected from the file.

An importer is an object with
  ``name``                     the registry name (also the ``format:`` value in a lab config),
  ``suffixes``                 file suffixes it may read (lower-case, with the dot),
  ``sniff(path, head) -> bool`` whether the decoded first bytes look like its format,
  ``read(path, ctx)``          an iterator of ``Message`` / ``BadRecord``, one per record, streaming.
``read`` raises ``ExportError`` for a file it cannot read at all (wrong columns, truncated JSON…).
Entries are lazy strings, so listing formats imports no importer module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from persona_lab.errors import ExportError
from persona_lab.ingest.records import BadRecord, Message
from persona_lab.registries import IMPORTERS
from persona_lab.textio import read_text_head


@dataclass
class ReadContext:
    """What an importer needs besides the file: the encoding found, the zone for naive times, my names."""

    encoding: str = "utf-8"
    timezone: str = "UTC"
    me: frozenset[str] = field(default_factory=frozenset)
    # Files of one folder that belong to one chat share state through here (e.g. WeChat page files).
    chat_hint: str | None = None


class Importer(Protocol):
    name: str
    suffixes: tuple[str, ...]

    def sniff(self, path: Path, head: str) -> bool: ...

    def read(self, path: Path, ctx: ReadContext) -> Iterator[Message | BadRecord]: ...


def detect(path: Path, fmt: str = "auto") -> tuple[Importer, str]:
    """The importer for ``path`` and the file's encoding; ExportError naming the file when none fits."""
    encoding, head = read_text_head(path)
    if fmt != "auto":
        return IMPORTERS.get(fmt), encoding
    suffix = path.suffix.lower()
    candidates = [IMPORTERS.get(name) for name in IMPORTERS.names()]
    for importer in candidates:
        if suffix in importer.suffixes and importer.sniff(path, head):
            return importer, encoding
    known = ", ".join(IMPORTERS.names())
    first_line = head.splitlines()[0][:120] if head.splitlines() else ""
    raise ExportError(
        f"{path}: unknown export format (first line: {first_line!r}). "
        f"Known formats: {known}; name one with 'format:' in the config if detection fails."
    )
