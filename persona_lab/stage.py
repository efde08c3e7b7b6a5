"""The one interface every stage of the loop has: what it reads, what it writes, how it runs.

``inputs`` are hashed (content, not timestamps) to decide whether the stage must run again; ``outputs``
are hashed after it ran, so a deleted or edited output also reruns it; ``run`` does the work. Each stage
package declares its own ``STAGE`` (ingest/stage.py, train/stage.py, blend/stage.py, evaluate/stage.py),
and persona_lab/loop.py only runs the table of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from persona_lab.config import LabConfig


@dataclass(frozen=True)
class RunContext:
    """What the command line tells every stage."""

    quick: bool = False  # cap training at 10 steps (a smoke run; it says so)
    progress: bool = True
    force: frozenset[str] = field(default_factory=frozenset)  # stages redone even when unchanged


@dataclass(frozen=True)
class Stage:
    name: str
    inputs: Callable[[LabConfig, RunContext], dict[str, Any]]
    outputs: Callable[[LabConfig], list[Path]]
    run: Callable[[LabConfig, RunContext], Any]
    enabled: Callable[[LabConfig], bool] = lambda config: True  # optional stages (search, tune) are off by default


def settings_of(config: LabConfig, *names: str) -> dict[str, Any]:
    """The named top-level config sections, as JSON, for a stage's inputs."""
    return {name: config.model_dump(mode="json", include={name}).get(name) for name in names}
