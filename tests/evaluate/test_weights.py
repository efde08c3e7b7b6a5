"""The composite's weights: each control ordering pulls until it is clear, none is bought by giving up
another, and an ordering no weighting can make is reported instead of wrecking the rest."""

from __future__ import annotations

import numpy as np
import pytest

from persona_lab.evaluate.weights import (
    Z_CLEAR,
    DevFit,
    _margins,
    best_point,
    decisive_votes,
    simplex,
    vote_agreement,
    weights_from_votes,
)


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


# ------------------------------------------------------------------------------------ from the arena

def dev_fit(limit: float) -> DevFit:
    """Two metrics a, b; an ordering that breaks once a's weight reaches ``limit``, and one always made."""
    grid = simplex(2)
    z = np.stack([limit - grid[:, 0], np.ones(len(grid))], axis=1)
    return DevFit({"a": 0.0, "b": 1.0}, {"method": "fitted", "text": "dev"}, ["a", "b"], grid, z,
                  np.array([True, True]), [("real", "other_person"), ("other_person", "generic")])


def votes_for(winner: str, n: int, raters: int) -> list[dict]:
    return [{"model_a": "A", "model_b": "B", "winner": "model_a" if winner == "A" else "model_b",
             "rater_id": f"r{i % raters}"} for i in range(n)]


VALUES = {"A": (np.array([[1.0, 0.0]]), np.ones(1)), "B": (np.array([[0.0, 1.0]]), np.ones(1))}  # A is all a


def test_vote_agreement_counts_the_winner_higher_and_ties_half():
    points = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    assert vote_agreement(points, VALUES, votes_for("A", 4, 1)).tolist() == [1.0, 0.5, 0.0]
    assert decisive_votes([{"model_a": "A", "model_b": "B", "winner": "tie"},
                           {"model_a": "A", "model_b": "X", "winner": "model_a"},
                           {"model_a": "A", "model_b": "B", "winner": "model_b"}], {"A", "B"}) == [
        {"model_a": "A", "model_b": "B", "winner": "model_b"}]


def test_votes_move_the_weights_but_never_past_a_control_ordering():
    weights, basis = weights_from_votes(dev_fit(0.6), VALUES, votes_for("A", 30, raters=4))
    # the votes want metric a; weightings with a >= 0.6 rank a control out of order, so 0.55 is as far as it goes
    assert weights["a"] == pytest.approx(0.55) and basis["method"] == "arena" and basis["agreement"] == 1.0
    assert basis["agreement_dev_weights"] == 0.0 and basis["held_out"]["agreement"] == 1.0
    assert basis["admissible"] == 12
    weights, basis = weights_from_votes(dev_fit(0.6), VALUES, votes_for("B", 30, raters=4))
    assert weights["a"] == 0.0  # agreeing weightings tie; the dev objective picks among them
    _, basis = weights_from_votes(dev_fit(0.6), VALUES, votes_for("A", 30, raters=1))
    assert basis["held_out"] is None and "no held-out check" in basis["text"]


def test_score_fits_weights_to_arena_votes_once_there_are_enough(tmp_path):
    from persona_lab.evaluate.profile import load_profile
    from persona_lab.evaluate.score import score
    from persona_lab.workspace.shapes import read_eval_items
    from tests.evaluate.conftest import eval_rows, training_rows, write_jsonl

    profile = load_profile(write_jsonl(tmp_path / "train.jsonl", training_rows(480)))
    items = read_eval_items(write_jsonl(tmp_path / "refs.jsonl", eval_rows(48)))
    bot = "As an AI language model, I am happy to help you with that request today."
    candidates = {"me": {i.id: i.reply for i in items}, "bot": {i.id: bot for i in items}}
    votes = [{"model_a": "bot", "model_b": "me", "winner": "model_b", "rater_id": f"r{i % 3}"} for i in range(12)]
    few = score(profile, items, candidates, n_boot=40, votes=votes, min_votes=30).scores
    assert few["weights_basis"]["method"] == "fitted" and "30 needed" in few["weights_basis"]["text"]
    enough = score(profile, items, candidates, n_boot=40, votes=votes * 3, min_votes=30).scores
    basis = enough["weights_basis"]
    assert basis["method"] == "arena" and basis["votes"] == 36 and basis["agreement"] == 1.0
    assert basis["dev_weights"] == few["weights"] and set(enough["weights"]) == set(few["weights"])
    assert enough["variants"]["me"]["composite"] > enough["variants"]["bot"]["composite"]
