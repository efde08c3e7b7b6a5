"""JSON and JSONL I/O for every file that crosses a stage boundary: errors name the file and line.

JSONL is split on "\\n" only: ``str.splitlines`` also splits on \\x85, \\u2028 and other separators that a
message or a generated reply may hold and that ``json.dumps(ensure_ascii=False)``/orjson write raw.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from persona_lab.errors import PersonaLabError


class ShapeError(PersonaLabError, ValueError):
    """A file that is there but not of the shape its reader needs; the message names file and line."""

    hint = "the file's shape is described in shared/DESIGN.md 'Data shapes' and persona_lab/workspace/shapes.py"


def iter_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed row) for every non-empty line."""
    if not path.exists():
        raise ShapeError(f"{path}: file not found", hint="check the path, or run the stage that writes it")
    with path.open(encoding="utf-8", newline="\n") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ShapeError(f"{path}:{number}: not JSON ({exc.msg})") from None


def append_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Append rows (a kill between two calls loses at most the rows of one call)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise ShapeError(f"{path}: file not found", hint="check the path, or run the stage that writes it")
    try:
        return json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise ShapeError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from None


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` at once, so a reader never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    temp.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
    os.replace(temp, path)
