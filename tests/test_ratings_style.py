"""Style-controlled Bradley-Terry, position bias and rater consistency (persona_lab/ratings.py), on votes
simulated from a known model, so the right answer is known: P(A wins) = sigmoid(s_a - s_b + gamma * z + bias),
z = the normalised length difference (len_a - len_b) / (len_a + len_b) scaled to unit sd."""

from __future__ import annotations

import math

import numpy as np
import pytest

from persona_lab.ratings import (
    bootstrap_style_controlled,
    bradley_terry,
    position_bias,
    rater_consistency,
    style_controlled_bradley_terry,
)

# True strengths (natural scale) and mean reply lengths: the best variant is terse, the worst verbose, so
# a board that length can game ranks them upside down.
TRUE = {"terse": 0.6, "middle": 0.0, "verbose": -0.6}
MEAN_LENGTH = {"terse": 20, "middle": 60, "verbose": 180}


def simulate(n: int, gamma: float, seed: int = 0, left_bonus: float = 0.0) -> list[dict]:
    rng = np.random.default_rng(seed)
    names = list(TRUE)
    raw = []
    for _ in range(n):
        a, b = rng.choice(names, 2, replace=False)
        # lengths vary within a variant (lognormal around its mean): that variation is what lets the fit tell
        # length from quality
        la, lb = (max(1, int(MEAN_LENGTH[v] * rng.lognormal(0, 0.6))) for v in (a, b))
        raw.append((a, b, la, lb, (la - lb) / (la + lb)))
    sd = float(np.std([z for *_, z in raw]))
    votes = []
    for a, b, la, lb, z in raw:
        p = 1 / (1 + math.exp(-(TRUE[a] - TRUE[b] + gamma * z / sd + left_bonus)))
        u = rng.random()
        winner = "model_a" if u < p * 0.9 else "model_b" if u < 0.9 else "tie"
        votes.append({"model_a": str(a), "model_b": str(b), "winner": winner, "len_a": la, "len_b": lb})
    return votes


def order(ratings: dict[str, float]) -> list[str]:
    return sorted(ratings, key=ratings.get, reverse=True)


def test_length_driven_votes_fool_plain_bt_but_not_the_style_controlled_fit():
    votes = simulate(1500, gamma=2.0)
    plain = bradley_terry(votes)
    styled, coef = style_controlled_bradley_terry(votes)
    assert order(plain)[0] == "verbose"  # the plain board rewards length
    assert order(styled) == ["terse", "middle", "verbose"]  # the truth
    assert coef == pytest.approx(2.0, abs=0.4)
    # the recovered gap terse - verbose (1.2 on the natural scale) on the Elo scale
    assert styled["terse"] - styled["verbose"] == pytest.approx(1.2 * 400 / math.log(10), rel=0.3)


def test_without_a_length_effect_both_fits_agree_and_the_coefficient_is_near_zero():
    votes = simulate(1500, gamma=0.0, seed=1)
    table = bootstrap_style_controlled(votes, rounds=40, seed=0)
    assert order({k: v["rating"] for k, v in table["ratings"].items()}) == ["terse", "middle", "verbose"]
    assert order({k: v["rating"] for k, v in table["plain"].items()}) == ["terse", "middle", "verbose"]
    low, high = table["length_ci"]
    assert low < 0 < high and abs(table["length_coef"]) < 0.2
    for name, row in table["ratings"].items():
        assert row["ci_low"] <= row["rating"] <= row["ci_high"] and row["votes"] > 0
        assert abs(row["rating"] - table["plain"][name]["rating"]) < 40


def test_bootstrap_interval_of_the_length_coefficient_excludes_zero_when_length_drives_votes():
    table = bootstrap_style_controlled(simulate(600, gamma=1.5, seed=2), rounds=40, seed=0)
    assert table["length_ci"][0] > 0.5 and table["votes"] == 600


def test_equal_lengths_reduce_to_plain_bradley_terry():
    votes = [{**v, "len_a": 10, "len_b": 10} for v in simulate(300, gamma=0.0, seed=3)]
    styled, coef = style_controlled_bradley_terry(votes)
    plain = bradley_terry(votes)
    assert coef == 0.0
    for name in plain:
        assert styled[name] == pytest.approx(plain[name], abs=0.5)


def test_bad_lengths_are_refused_with_the_vote_named():
    with pytest.raises(ValueError, match="vote #0: len_a and len_b"):
        style_controlled_bradley_terry([{"model_a": "x", "model_b": "y", "winner": "tie", "len_a": -1, "len_b": 3}])
    with pytest.raises(ValueError, match="has no 'len_b'"):
        style_controlled_bradley_terry([{"model_a": "x", "model_b": "y", "winner": "tie", "len_a": 1}])
    assert style_controlled_bradley_terry([]) == ({}, 0.0)


def test_position_bias_is_seen_when_raters_favour_the_left_and_not_otherwise():
    biased = position_bias(simulate(800, gamma=0.0, seed=4, left_bonus=0.8))
    assert biased["ci_low"] > 0.55 and biased["decisive"] + biased["ties"] == 800
    # without a bias the 95% interval misses 0.5 in about 1 simulation in 20 (seed 5 is one of them)
    fair = [position_bias(simulate(300, gamma=0.0, seed=seed)) for seed in range(40)]
    misses = sum(not row["ci_low"] < 0.5 < row["ci_high"] for row in fair)
    assert misses <= 6, misses
    assert position_bias([{"model_a": "x", "model_b": "y", "winner": "tie"}]) is None


def test_rater_consistency_flags_a_contrary_rater_and_a_one_button_rater_only():
    votes = [{**v, "rater_id": f"r{i % 5}"} for i, v in enumerate(simulate(500, gamma=0.0, seed=6))]
    strength = {"terse": 2, "middle": 1, "verbose": 0}
    for i in range(20):  # "troll": always picks the variant the others rank lower
        a, b = ("terse", "verbose") if i % 2 else ("middle", "terse")
        winner = "model_a" if strength[a] < strength[b] else "model_b"
        votes.append({"model_a": a, "model_b": b, "winner": winner, "rater_id": "troll"})
        votes.append({"model_a": b, "model_b": a, "winner": "model_a", "rater_id": "lefty"})  # always A
    table = rater_consistency(votes)
    assert table["troll"]["flags"] == ["contrary"] and table["troll"]["agreement"] == 0.0
    assert "one_side" in table["lefty"]["flags"] and table["lefty"]["left_rate"] == 1.0
    for rater in ("r0", "r1", "r2", "r3", "r4"):
        assert table[rater]["flags"] == [] and table[rater]["agreement"] > 0.5
    assert sum(row["votes"] for row in table.values()) == len(votes)
