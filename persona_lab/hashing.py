"""Content hashes: what the stages and the run manifest use to tell "unchanged" from "changed"."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

# (path, inode, size, mtime_ns) -> hash: one stage's outputs are the next stage's inputs, so a run of the
# loop would otherwise read every data file two or three times. Any rewrite changes the mtime.
_SEEN: dict[tuple[str, int, int, int], str] = {}


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks (exports can be gigabytes); remembered per version
    of the file (inode, size, modification time) within the process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if key not in _SEEN:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _SEEN[key] = digest.hexdigest()
    return _SEEN[key]


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


def adapter_fingerprint(folder: Path) -> dict[str, Any]:
    """What a served adapter's answers depend on: its weights and the LoRA settings of its config. Not the
    whole folder: PEFT writes target_modules in set order and blends record when they were made."""
    weights = {p.name: file_hash(p) for p in sorted(folder.glob("*.safetensors"))}
    config_path = folder / "adapter_config.json"
    lora = {}
    if config_path.exists():
        raw = json.loads(config_path.read_text("utf-8"))
        lora = {key: raw.get(key) for key in ("r", "lora_alpha", "use_rslora", "use_dora", "rank_pattern",
                                              "alpha_pattern")}
        modules = raw.get("target_modules")
        lora["target_modules"] = sorted(modules) if isinstance(modules, list) else modules
    return {"weights": weights, "lora": lora}
