"""The train stage: one LoRA adapter per source with training data (chat always, blog when there are posts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from persona_lab.config import LabConfig
from persona_lab.stage import RunContext, Stage
from persona_lab.train.sft import TrainResult, train_inputs, train_source


def stage_inputs(config: LabConfig, context: RunContext) -> dict[str, Any]:
    """Per source: its training file, the base model, its settings, template and seed."""
    return {source: train_inputs(config, source, context.quick) for source in config.paths.sources()}


def stage_outputs(config: LabConfig) -> list[Path]:
    return [config.paths.adapter_run(source) for source in config.paths.sources()]


def run_train(config: LabConfig, context: RunContext) -> list[TrainResult]:
    return [train_source(config, source, quick=context.quick, progress=context.progress,
                         force="train" in context.force) for source in config.paths.sources()]


STAGE = Stage("train", stage_inputs, stage_outputs, run_train)
