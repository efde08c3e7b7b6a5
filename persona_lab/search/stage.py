"""The search stage: on when ``search.enabled``; reruns when the adapters, the training file or the settings
that shape a trial (search, generation, blends, base model, seed) change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from persona_lab.config import LabConfig
from persona_lab.hashing import adapter_fingerprint, file_hash
from persona_lab.search.run import SearchError, adapter_folders, run_search
from persona_lab.stage import RunContext, Stage, settings_of


def stage_inputs(config: LabConfig, context: RunContext) -> dict[str, Any]:
    try:
        folders = adapter_folders(config)
    except SearchError:  # not trained yet: the stage says so when it runs
        folders = {}
    adapters = {parent: {str(step): adapter_fingerprint(folder) for step, folder in by_step.items()}
                for parent, by_step in folders.items()}
    chat_train = config.paths.chat_train
    return {"adapters": adapters, "chat_train": file_hash(chat_train) if chat_train.exists() else None,
            "generation": config.eval.model_dump(mode="json", include={"max_tokens", "temperature", "top_p", "seed",
                                                                       "weights", "embedding_model"}),
            **settings_of(config, "search", "blends", "base_model", "chat_template")}


def stage_outputs(config: LabConfig) -> list[Path]:
    return [config.paths.search]


STAGE = Stage("search", stage_inputs, stage_outputs, lambda config, context: run_search(config,
              progress=context.progress), enabled=lambda config: config.search.enabled)
