"""The blend stage: every blend of the config, then the variant registry (variants.json)."""

from __future__ import annotations

from typing import Any

from persona_lab.config import LabConfig


def run_blend(config: LabConfig, *, merge_full: bool = False) -> dict[str, Any]:
    """Build all blends (validated before anything is written) and rewrite the registry with them."""
    from persona_lab.blend.merge import build_all
    from persona_lab.blend.registry import write_registry

    entries = build_all(config, merge_full=merge_full) if config.blends else []
    return write_registry(config, entries)
