"""Content hashes: what the stages and the run manifest use to tell "unchanged" from "changed"."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks (exports can be gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def json_hash(value: Any) -> str:
    """SHA-256 of a JSON-able value, independent of key order."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def tree_hashes(root: Path, *, skip_suffixes: tuple[str, ...] = ()) -> dict[str, str]:
    """Relative path -> file hash for a file, or for every file under a folder (sorted); {} if absent."""
    if root.is_file():
        return {root.name: file_hash(root)}
    if not root.is_dir():
        return {}
    return {str(p.relative_to(root)): file_hash(p) for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith(skip_suffixes)}
