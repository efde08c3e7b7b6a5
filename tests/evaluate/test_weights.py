"""The composite's weights: each control ordering pulls until it is clear, none is bought by giving up
another, and an ordering no weighting can make is reported instead of wrecking the rest."""

from __future__ import annotations

import numpy as np
import pytest

from persona_lab.evaluate.weights import Z_CLEAR, _margins, best_point, simplex


def replicates(mean: list[float], sd: float = 0.01, n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.array(mean) + rng.normal(0, sd, (n, len(mean))), np.ones(n)


def best(values, orderings) -> np.ndarray:
    grid = simplex(2)
    z = _margins(values, orderings, grid)
    return grid[best_point(z[:, z.max(axis=0) > 0])]


def test_simplex_grid_sums_to_one():
    grid = simplex(3)
    assert np.allclose(grid.sum(axis=1), 1) and len(grid) == 231


def test_each_ordering_gets_the_metric_that_makes_it():
    # metric 0 tells real from me_elsewhere only; metric 1 tells me_elsewhere from other_person only
    values = {"real": replicates([0.9, 0.8], seed=1), "me_elsewhere": replicates([0.5, 0.8], seed=2),
              "other_person": replicates([0.5, 0.4], seed=3)}
    weights = best(values, [("real", "me_elsewhere"), ("me_elsewhere", "other_person")])
    assert 0.1 < weights[0] < 0.9 and 0.1 < weights[1] < 0.9  # both, not one
    z = _margins(values, [("real", "me_elsewhere"), ("me_elsewhere", "other_person")], weights[None])[0]
    assert (z > Z_CLEAR).all()


def test_an_impossible_ordering_is_left_out_not_fatal():
    values = {"real": replicates([0.9, 0.9], seed=1), "me_elsewhere": replicates([0.5, 0.5], seed=2),
              "generic": replicates([0.95, 0.95], seed=3)}  # no weighting puts real above generic
    orderings = [("real", "me_elsewhere"), ("real", "generic")]
    z = _margins(values, orderings, simplex(2))
    assert z[:, 1].max() < 0 < z[:, 0].min()
    weights = best(values, orderings)
    assert weights.sum() == pytest.approx(1.0)
