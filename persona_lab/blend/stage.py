"""The blend stage: every blend of the config, then the variant registry (variants.json)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from persona_lab.blend.merge import build_all
from persona_lab.blend.registry import write_registry
from persona_lab.config import LabConfig
from persona_lab.hashing import adapter_fingerprint, tree_hashes
from persona_lab.stage import RunContext, Stage, settings_of
from persona_lab.workspace import SOURCES


def run_blend(config: LabConfig, *, merge_full: bool = False) -> dict[str, Any]:
    """Build all blends (validated before anything is written) and rewrite the registry with them."""
    entries = build_all(config, merge_full=merge_full) if config.blends else []
    return write_registry(config, entries)


def stage_inputs(config: LabConfig, context: RunContext) -> dict[str, Any]:
    """What a blend reads: the final adapter and the checkpoints (a blend may take "chat at step 600") — not
    the run's log or manifest, so a retrain with identical weights changes no blend; and the training file
    (the prompted variant's persona prompt is built from it)."""
    adapters = {}
    for source in SOURCES:
        run_dir = config.paths.adapter_run(source)
        folders = sorted(run_dir.glob("checkpoint-*")) + [run_dir / "final"]
        adapters[source] = {f.name: adapter_fingerprint(f) for f in folders if f.is_dir()}
    # a tuned adapter (persona-lab tune) a blend names as a parent; only those: the tune stage runs after this
    # one, so counting every tuned adapter would make each new one rerun the blends next time
    named = {parent for spec in config.blends for parent in spec.weights} - set(SOURCES)
    tuned = {name: adapter_fingerprint(config.paths.tuned_adapter(name)) for name in sorted(named)
             if config.paths.tune_manifest(name).exists()}
    return {"adapters": adapters, "tuned": tuned, "chat_train": tree_hashes(config.paths.chat_train),
            **settings_of(config, "blends", "persona_name", "me", "base_model")}


def stage_outputs(config: LabConfig) -> list[Path]:
    # not variants.json: later stages add variants to it (the loop rebuilds it from disk after each)
    return [config.paths.blends]


STAGE = Stage("blend", stage_inputs, stage_outputs, lambda config, context: run_blend(config))
