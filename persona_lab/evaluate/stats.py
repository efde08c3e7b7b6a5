"""Resampling statistics for persona-eval: two-stage bootstrap replicates, BCa intervals, grouped jackknife.

Why BCa and not percentile intervals: most of our statistics are set-level (a distance between the
distribution of a variant's replies and mine), and a bootstrap resample repeats items, which biases such
distances upwards; a percentile interval then lies beside its own point estimate. BCa (Efron 1987) corrects
for that bias (z0) and for skew (the acceleration, from a jackknife over groups of items). When the bias is
so large that almost every replicate falls on one side, BCa itself breaks down (its interval collapses
onto the edge of the bootstrap distribution), and the percentile interval shifted by the bootstrap bias is
used instead.

Two-stage resampling: contexts are drawn with replacement, and for each drawn context one of the variant's
``k`` sampled replies is drawn, so an interval covers both which contexts were asked and what the model
happened to sample. The draws are shared by every candidate (the same contexts, and the same uniform number
per context picks the sample), which makes differences between candidates paired.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALPHA = 0.05
MAX_BIAS_Z = 1.5  # |z0| beyond this (fewer than 7% of replicates on one side): bias-shifted percentiles


@dataclass(frozen=True)
class Replicates:
    """``items[r]``: the contexts of replicate r (indices, with repeats); ``draws[r]``: one uniform number per
    drawn context, turned into a sample index by ``slots`` (the same number for every candidate)."""

    items: np.ndarray  # (B, n) int
    draws: np.ndarray  # (B, n) float in [0, 1)
    jackknife_groups: np.ndarray  # (n,) group id of each item, for the grouped jackknife

    @classmethod
    def draw(cls, n: int, n_boot: int, seed: int, groups: int = 40) -> Replicates:
        rng = np.random.default_rng(seed)
        items = rng.integers(0, n, size=(n_boot, n))
        draws = rng.random((n_boot, n))
        jackknife = rng.permutation(n) % max(1, min(groups, n))
        return cls(items, draws, jackknife)

    @property
    def n_boot(self) -> int:
        return len(self.items)


def slots(draws: np.ndarray, k: int) -> np.ndarray:
    """Sample index per drawn context for a candidate with ``k`` samples per context."""
    return np.minimum((draws * k).astype(int), k - 1)


def bca_interval(estimate: float, boot: np.ndarray, jackknife: np.ndarray, alpha: float = ALPHA) -> list[float]:
    """Bias-corrected and accelerated bootstrap interval. ``jackknife``: the statistic with each group of
    items left out. Falls back to the percentile interval when the correction is undefined."""
    from scipy.stats import norm

    boot = np.asarray(boot, dtype=float)
    boot = boot[np.isfinite(boot)]
    if len(boot) < 10 or not np.isfinite(estimate):
        return [float("nan"), float("nan")]
    if np.ptp(boot) == 0:
        return [float(boot[0]), float(boot[0])]
    below = (np.sum(boot < estimate) + 0.5 * np.sum(boot == estimate)) / len(boot)
    below = min(max(below, 1 / (2 * len(boot))), 1 - 1 / (2 * len(boot)))
    z0 = norm.ppf(below)
    if abs(z0) > MAX_BIAS_Z:
        # Nearly every replicate on one side of the estimate: BCa's quantiles would leave the bootstrap
        # distribution and the interval collapse. Shift the percentile interval by the bootstrap bias instead.
        bias = float(boot.mean() - estimate)
        low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2]) - bias
        return [float(low), float(high)]
    jack = np.asarray(jackknife, dtype=float)
    jack = jack[np.isfinite(jack)]
    acceleration = 0.0
    if len(jack) >= 3:
        d = jack.mean() - jack
        denominator = 6.0 * (d ** 2).sum() ** 1.5
        acceleration = float((d ** 3).sum() / denominator) if denominator > 0 else 0.0
    z = norm.ppf([alpha / 2, 1 - alpha / 2])
    adjusted = norm.cdf(z0 + (z0 + z) / (1 - acceleration * (z0 + z)))
    if not np.all(np.isfinite(adjusted)):
        adjusted = np.array([alpha / 2, 1 - alpha / 2])
    low, high = np.quantile(boot, adjusted)
    return [float(low), float(high)]

