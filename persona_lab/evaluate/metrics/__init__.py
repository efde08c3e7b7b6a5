"""Metrics: each a small class registered by name, one concern each.

A metric turns replies into per-reply *rows* (``rows(replies, refs)``: an array with one row per
evaluation item) and a set of rows into one number (``summarise(candidate_rows, real_rows)``, higher =
more like me, 1.0 at best for most). Splitting the two is what makes the bootstrap honest and cheap: the
scorer resamples evaluation items and re-summarises, for set-level metrics (style distributions) as much as
for per-reply ones (ROUGE-L). ``breakdown`` explains a value (per style feature, per failure mode).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from persona_lab.config import DEFAULT_METRIC_WEIGHTS
from persona_lab.registry import Registry


@dataclass
class ScoringContext:
    """What metrics may fit on before scoring: my profile and the real held-out replies."""

    profile: Any  # persona_lab.evaluate.profile.Profile
    refs: list[str]  # my real replies, one per evaluation item
    contexts: list[list[dict]]  # each item's context (the other speakers' held-out lines come from here)
    options: dict[str, Any]


class Metric(Protocol):
    name: str
    family: str
    description: str

    def prepare(self, ctx: ScoringContext) -> None: ...

    def rows(self, replies: list[str], refs: list[str]) -> np.ndarray: ...

    def summarise(self, rows: np.ndarray, real_rows: np.ndarray) -> float: ...

    def breakdown(self, rows: np.ndarray, real_rows: np.ndarray) -> dict[str, float]: ...


METRICS: Registry[type] = Registry("metric")
METRICS.register("rouge_l", "persona_lab.evaluate.metrics.content:RougeL")
METRICS.register("embedding_sim", "persona_lab.evaluate.metrics.content:EmbeddingSimilarity")
METRICS.register("authorship", "persona_lab.evaluate.metrics.authorship:Authorship")
METRICS.register("style", "persona_lab.evaluate.metrics.style:StyleSimilarity")
METRICS.register("failures", "persona_lab.evaluate.metrics.failures:FailureModes")
METRICS.register("privacy", "persona_lab.evaluate.metrics.failures:PrivateLookalikes")

DEFAULT_WEIGHTS = DEFAULT_METRIC_WEIGHTS  # defined with the config, the one place defaults live
