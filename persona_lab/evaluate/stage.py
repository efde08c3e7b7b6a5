"""The eval stage: every variant of the registry answers the held-out contexts, then scores and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from persona_lab.config import LabConfig
from persona_lab.evaluate.human import arena_votes
from persona_lab.evaluate.runner import run_eval
from persona_lab.hashing import adapter_fingerprint, json_hash, tree_hashes
from persona_lab.stage import RunContext, Stage, settings_of
from persona_lab.workspace.files import read_json


def stage_inputs(config: LabConfig, context: RunContext) -> dict[str, Any]:
    """The registry and every variant's files, data/, the eval and engine settings, and the arena's votes
    (the composite's weights may be fitted on them)."""
    paths = config.paths
    registry = read_json(paths.variants) if paths.variants.exists() else None
    variant_files = {}
    for variant in (registry or {}).get("variants", []):
        variant.pop("created", None)  # a rebuilt registry with the same content is the same input
        if variant.get("path"):
            variant_files[variant["name"]] = adapter_fingerprint(Path(variant["path"]))
    if registry:
        registry.pop("updated", None)
    return {"registry": registry, "variant_files": variant_files, "data": tree_hashes(paths.data),
            "serve": {"engine": config.serve.engine, "guard": config.serve.guard,
                      "openai": config.serve.model_dump(mode="json")["openai"]},
            "votes": json_hash(arena_votes(config)), **settings_of(config, "eval", "base_model", "seed")}


def stage_outputs(config: LabConfig) -> list[Path]:
    return [config.paths.scores, config.paths.report, config.paths.report_html]


STAGE = Stage("eval", stage_inputs, stage_outputs,
              lambda config, context: run_eval(config, progress=context.progress))
