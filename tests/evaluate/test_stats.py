"""BCa intervals: right where the answer is known, sensible where a percentile interval is not."""

from __future__ import annotations

import numpy as np
import pytest

from persona_lab.evaluate.stats import Replicates, bca_interval, slots


def bootstrap_of_mean(data: np.ndarray, replicates: Replicates) -> tuple[float, np.ndarray, np.ndarray]:
    boot = np.array([data[idx].mean() for idx in replicates.items])
    groups = replicates.jackknife_groups
    jack = np.array([data[groups != g].mean() for g in np.unique(groups)])
    return float(data.mean()), boot, jack


def test_bca_of_a_mean_matches_the_normal_interval():
    data = np.random.default_rng(1).normal(10.0, 2.0, 400)
    estimate, boot, jack = bootstrap_of_mean(data, Replicates.draw(400, 2000, seed=3))
    low, high = bca_interval(estimate, boot, jack)
    half = 1.96 * data.std(ddof=1) / np.sqrt(len(data))
    assert low == pytest.approx(estimate - half, abs=0.05) and high == pytest.approx(estimate + half, abs=0.05)


def test_bca_corrects_a_biased_statistic_that_a_percentile_interval_misses():
    # a distance that resampling inflates (repeated items): the percentile interval lies above the estimate
    data = np.random.default_rng(2).uniform(size=150)
    replicates = Replicates.draw(150, 1000, seed=4)

    def distance(values: np.ndarray) -> float:
        values = np.sort(values)
        return float(np.abs(values - (np.arange(len(values)) + 0.5) / len(values)).mean())

    estimate = distance(data)
    boot = np.array([distance(data[idx]) for idx in replicates.items])
    jack = np.array([distance(data[replicates.jackknife_groups != g]) for g in range(40)])
    percentile = np.quantile(boot, [0.025, 0.975])
    assert estimate < percentile[0]  # the defect: the interval misses its own estimate
    low, high = bca_interval(estimate, boot, jack)
    assert low <= estimate <= high
    assert high - low == pytest.approx(percentile[1] - percentile[0])  # bias-shifted, not collapsed


def test_moderate_bias_is_corrected_by_bca():
    data = np.random.default_rng(5).exponential(size=300)  # skewed: the mean's interval is not symmetric
    estimate, boot, jack = bootstrap_of_mean(data, Replicates.draw(300, 2000, seed=6))
    low, high = bca_interval(estimate, boot, jack)
    assert low < estimate < high and (high - estimate) > (estimate - low)


def test_degenerate_and_empty_bootstraps():
    assert bca_interval(0.5, np.full(100, 0.5), np.full(10, 0.5)) == [0.5, 0.5]
    assert all(np.isnan(bca_interval(0.5, np.array([0.1, np.nan]), np.array([]))))


def test_slots_share_draws_across_candidates():
    draws = np.array([0.0, 0.49, 0.5, 0.99])
    assert slots(draws, 1).tolist() == [0, 0, 0, 0]
    assert slots(draws, 2).tolist() == [0, 0, 1, 1]
    assert slots(draws, 4).tolist() == [0, 1, 2, 3]
