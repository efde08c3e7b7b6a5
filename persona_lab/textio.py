"""Opening export files: encoding detection, binary refusal, and line-by-line decoding.

Exports arrive as UTF-8, UTF-8 with a BOM (MemoTrace writes utf-8-sig), or GB18030/GBK (older Windows
tools). The encoding is decided from the first bytes (a BOM, a clean UTF-8 decode, or charset-normalizer
on the sample); lines are then decoded one at a time, so a single bad line is counted and named rather
than failing, or silently garbling, the whole file.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from persona_lab.errors import ExportError

SNIFF_BYTES = 64 * 1024


@dataclass
class DecodedLines:
    """Iterates a file's lines as text and remembers which line numbers could not be decoded."""

    path: Path
    encoding: str
    bad_lines: set[int] = field(default_factory=set)
    line_no: int = 0

    def __iter__(self) -> Iterator[str]:
        skip_bom = self.encoding == "utf-8-sig"
        with self.path.open("rb") as handle:
            for raw in handle:
                self.line_no += 1
                if skip_bom and self.line_no == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8):]
                try:
                    yield raw.decode(self.encoding if not skip_bom else "utf-8")
                except UnicodeDecodeError:
                    self.bad_lines.add(self.line_no)
                    yield raw.decode("utf-8" if skip_bom else self.encoding, errors="replace")


def read_head(path: Path, size: int = SNIFF_BYTES) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def detect_encoding(path: Path, head: bytes | None = None) -> str:
    """'utf-8-sig', 'utf-8' or 'gb18030' (a superset of GBK and GB2312); an error for binary files."""
    head = read_head(path) if head is None else head
    if not head.strip():
        raise ExportError(f"{path}: the file is empty")
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ExportError(f"{path}: UTF-16 text is not supported; re-save the export as UTF-8")
    if b"\x00" in head:
        raise ExportError(f"{path}: this is a binary file, not a chat export")
    if _decodes(head, "utf-8") or _mostly_utf8(head):
        return "utf-8"
    if _decodes(head, "gb18030"):
        return "gb18030"
    from charset_normalizer import from_bytes  # lazy: only for exports that are neither UTF-8 nor GB

    best = from_bytes(head).best()
    if best is None:
        raise ExportError(f"{path}: cannot tell the text encoding (not UTF-8, not GB18030)")
    return best.encoding


def _decodes(head: bytes, encoding: str) -> bool:
    # The sample may end in the middle of a multi-byte character: allow up to 3 trailing bytes.
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _mostly_utf8(head: bytes) -> bool:
    """A UTF-8 export with a damaged line stays UTF-8: the bad line is counted later, not the file lost."""
    lines = head.split(b"\n")[:-1] or [head]
    bad = sum(1 for line in lines if not _decodes(line, "utf-8"))
    return bad <= max(1, len(lines) // 100) and bad < len(lines)


def read_text_head(path: Path, size: int = 8192) -> tuple[str, str]:
    """(encoding, the first ``size`` bytes decoded) for format sniffing."""
    head = read_head(path)
    encoding = detect_encoding(path, head)
    text = head[:size].decode("utf-8" if encoding == "utf-8-sig" else encoding, errors="ignore")
    return encoding, text.lstrip("\ufeff")
