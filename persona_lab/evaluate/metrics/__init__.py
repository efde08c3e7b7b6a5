"""Metrics: each a small class registered by name, one concern each.

A metric's life in one scoring run:
  fit(profile, options)   learn what it needs from my *training* replies only (a classifier, base rates,
                          which style features vary in my data)
  bind(items)             learn the evaluation items: contexts, and for each item the reference set of my
                          real replies it is compared with (the other fold, see crossfit.py)
  rows(replies, index)    one row per reply; ``index`` says which item each reply answers. Rows are final
                          per-reply facts (a percentile among my replies, a rank among contexts, a flag), so
                          a bootstrap only re-summarises them
  summarise(rows)         one number for a set of rows, higher = more like me
  breakdown(rows)         why (per style feature, per failure mode, which direction)

``role``: "score" metrics enter the composite with fitted weights; the "gate" multiplies it (the share of
replies that are not failures beyond my own rate); "report" metrics are shown with CIs but kept out of the
composite, because the ``real`` control cannot be scored on them without comparing a reply with itself
(content overlap with my real reply) or because no control varies on them (privacy).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from persona_lab.registries import METRICS

__all__ = ["METRICS", "Metric"]


class Metric(Protocol):
    name: str
    family: str
    role: str  # "score" | "gate" | "report"
    description: str
    self_referential: bool  # compares a reply with my real reply to that item: undefined for `real`

    def fit(self, profile: Any, options: dict[str, Any]) -> None: ...

    def bind(self, items: Any) -> None: ...

    def rows(self, replies: list[str], index: np.ndarray) -> np.ndarray: ...

    def summarise(self, rows: np.ndarray) -> float: ...

    def breakdown(self, rows: np.ndarray) -> dict[str, float]: ...


