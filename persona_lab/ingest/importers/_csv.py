"""Shared CSV reading for the WeChat importers: a header check that names what is wrong, and rows that
carry the line they started on and whether any of their lines failed to decode."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path

from persona_lab.errors import ExportError
from persona_lab.textio import DecodedLines

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # a pasted essay in one message is legal


def read_rows(
    path: Path, encoding: str, required: tuple[str, ...]
) -> Iterator[tuple[int, list[str] | None, dict[str, int]]]:
    """Yield (start line, fields or None when a line of the row was undecodable, column index)."""
    lines = DecodedLines(path, encoding)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise ExportError(f"{path}: the file is empty (no header row)") from None
    except csv.Error as exc:
        raise ExportError(f"{path}: line 1: not a CSV header ({exc})") from None
    header = [name.strip().lstrip("\ufeff") for name in header]
    missing = [name for name in required if name not in header]
    if missing:
        raise ExportError(
            f"{path}: wrong column set: missing {', '.join(missing)}; "
            f"found {', '.join(header) or '(none)'}; expected {', '.join(required)}"
        )
    columns = {name: i for i, name in enumerate(header)}
    previous_end = reader.line_num
    while True:
        start = previous_end + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            previous_end = reader.line_num
            yield start, [f"__csv_error__:{exc}"], columns
            continue
        end = reader.line_num
        previous_end = end
        if not fields:  # a blank line between rows carries no record
            continue
        if lines.bad_lines and any(start <= n <= end for n in lines.bad_lines):
            yield start, None, columns
            continue
        yield start, fields, columns
