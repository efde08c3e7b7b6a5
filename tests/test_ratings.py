"""Arena rating maths: recovery of known strengths, bootstrap CI coverage, ties, unbeaten variants, fool rates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import log_expit

from persona_lab.ratings import (
    WINNERS,
    Guess,
    Vote,
    bootstrap_ratings,
    bradley_terry,
    elo_online,
    fool_rates,
    vote_counts,
    wilson_interval,
    win_rate_matrix,
)

TRUE = {"chat55": 800.0, "chat72": 900.0, "chat91": 1000.0, "blog": 1100.0, "prompted": 1200.0}


def simulate(true: dict[str, float], n: int, seed: int, tie_rate: float = 0.1) -> list[dict]:
    """Battles between random pairs, sides shuffled, outcomes drawn so that A's expected score (ties as half)
    equals the Bradley-Terry probability: a tie with probability ``tie_rate`` (half "tie", half "tie (bothbad)"),
    otherwise A wins with q where tie_rate / 2 + (1 - tie_rate) * q = p."""
    rng = np.random.default_rng(seed)
    names = list(true)
    votes = []
    for _ in range(n):
        i, j = rng.choice(len(names), size=2, replace=False)
        a, b = names[i], names[j]
        p = 1.0 / (1.0 + 10 ** ((true[b] - true[a]) / 400))
        q = (p - tie_rate / 2) / (1 - tie_rate)
        u = rng.random()
        if u < tie_rate:
            winner = "tie" if rng.random() < 0.5 else "tie (bothbad)"
        else:
            winner = "model_a" if rng.random() < q else "model_b"
        votes.append({"model_a": a, "model_b": b, "winner": winner})
    return votes


def centred(ratings: dict[str, float]) -> dict[str, float]:
    mean = sum(ratings.values()) / len(ratings)
    return {k: v - mean for k, v in ratings.items()}


def repeat(a: str, b: str, winner: str, times: int) -> list[dict]:
    return [{"model_a": a, "model_b": b, "winner": winner}] * times


# ------------------------------------------------------------------------------------------ Bradley-Terry
@pytest.mark.parametrize("seed", [1, 2])
def test_recovers_known_strengths(seed):
    votes = simulate(TRUE, 3000, seed)
    assert any(v["winner"] == "tie (bothbad)" for v in votes) and any(v["winner"] == "tie" for v in votes)
    ratings = bradley_terry(votes)
    assert list(ratings) == sorted(TRUE, key=TRUE.get, reverse=True)  # best first, in the true order
    assert sum(ratings.values()) / len(ratings) == pytest.approx(1000, abs=1e-6)  # centred on init
    truth = centred(TRUE)
    for name, value in centred(ratings).items():
        assert abs(value - truth[name]) < 40, (name, value, truth[name])


def test_fit_is_the_documented_penalised_likelihood():
    """The sklearn fit equals a direct minimisation of sum(weight * log-loss) + ||s||^2 / (2 prior_sd^2), with
    ties as half a win each, converted by 400 * s / ln 10 + 1000."""
    votes = simulate(TRUE, 200, seed=5, tie_rate=0.15)
    names = sorted(TRUE)
    idx = {m: i for i, m in enumerate(names)}
    score = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie (bothbad)": 0.5}
    ia = np.array([idx[v["model_a"]] for v in votes])
    ib = np.array([idx[v["model_b"]] for v in votes])
    sa = np.array([score[v["winner"]] for v in votes])
    prior_sd = 0.7  # strong enough that a wrong C mapping would show

    def objective(s):
        d = s[ia] - s[ib]
        return -(sa * log_expit(d) + (1 - sa) * log_expit(-d)).sum() + (s**2).sum() / (2 * prior_sd**2)

    s = minimize(objective, np.zeros(len(names)), method="BFGS", options={"gtol": 1e-9}).x
    expected = {m: 400 * s[idx[m]] / math.log(10) + 1000 for m in names}
    got = bradley_terry(votes, prior_sd=prior_sd)
    for m in names:
        assert got[m] == pytest.approx(expected[m], abs=0.05)


def test_two_models_match_the_closed_form():
    votes = repeat("a", "b", "model_a", 30) + repeat("b", "a", "model_a", 10)  # a wins 30 of 40
    nearly_mle = bradley_terry(votes, prior_sd=1e3)
    assert nearly_mle["a"] - nearly_mle["b"] == pytest.approx(400 * math.log10(3), abs=0.1)
    assert nearly_mle["a"] + nearly_mle["b"] == pytest.approx(2000, abs=1e-6)
    # Other scales: base e, scale 1 gives the natural log-odds; init moves the mean.
    natural = bradley_terry(votes, scale=1, base=math.e, init=0, prior_sd=1e3)
    assert natural["a"] - natural["b"] == pytest.approx(math.log(3), abs=1e-3)
    # The default weak prior barely moves 40 votes' worth of evidence.
    default = bradley_terry(votes)
    assert 0 < nearly_mle["a"] - default["a"] < 2


def test_ties_are_half_wins():
    only_ties = repeat("a", "b", "tie", 10) + repeat("b", "c", "tie (bothbad)", 10) + repeat("c", "a", "tie", 10)
    for value in bradley_terry(only_ties).values():
        assert value == pytest.approx(1000, abs=1e-6)
    # a: 6 wins, 2 losses, 8 ties -> score 10/16 = 0.625 (ties ignored would give 0.75; ties as losses 0.375).
    votes = repeat("a", "b", "model_a", 6) + repeat("a", "b", "model_b", 2) + repeat("b", "a", "tie", 8)
    gap = bradley_terry(votes, prior_sd=1e3)
    assert gap["a"] - gap["b"] == pytest.approx(400 * math.log10(0.625 / 0.375), abs=0.1)
    # "Both bad" is exactly a tie.
    bothbad = [dict(v, winner="tie (bothbad)") if v["winner"] == "tie" else v for v in votes]
    assert bradley_terry(bothbad) == pytest.approx(bradley_terry(votes))


def test_never_losing_model_is_finite_and_on_top():
    votes = (repeat("champ", "x", "model_a", 10) + repeat("y", "champ", "model_b", 10)
             + repeat("x", "y", "model_a", 10) + repeat("x", "y", "model_b", 10))
    ratings = bradley_terry(votes)
    assert next(iter(ratings)) == "champ"
    assert all(math.isfinite(v) for v in ratings.values())
    assert ratings["champ"] - max(ratings["x"], ratings["y"]) > 200  # 20 straight wins is strong evidence
    assert ratings["champ"] < 3000
    assert ratings["x"] == pytest.approx(ratings["y"], abs=1e-3)  # symmetric records, equal ratings
    # A single pair with one side always winning: finite too, and a never-winning side finite below.
    one_sided = bradley_terry(repeat("a", "b", "model_a", 5))
    assert all(math.isfinite(v) for v in one_sided.values()) and one_sided["a"] > one_sided["b"]
    boot = bootstrap_ratings(votes, rounds=30)
    assert all(math.isfinite(row[k]) for row in boot.values() for k in ("rating", "ci_low", "ci_high"))


def test_vote_dataclass_and_mapping_agree():
    votes = simulate(TRUE, 100, seed=3)
    as_objects = [Vote(**v) for v in votes]
    assert bradley_terry(as_objects) == bradley_terry(votes)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"model_a": "a", "model_b": "b", "winner": "neither"}, "unknown winner 'neither'. Available: model_a"),
        ({"model_a": "a", "model_b": "a", "winner": "tie"}, "cannot battle itself"),
        ({"model_a": "a", "winner": "tie"}, "has no 'model_b'"),
        ({"model_a": "", "model_b": "b", "winner": "tie"}, "non-empty string"),
    ],
)
def test_malformed_votes_fail_precisely(bad, message):
    votes = [{"model_a": "a", "model_b": "b", "winner": "model_a"}, bad]
    for fn in (bradley_terry, bootstrap_ratings, win_rate_matrix, vote_counts, elo_online):
        with pytest.raises(ValueError, match=r"vote #1") as info:
            fn(votes)
        assert message in str(info.value)
    assert set(WINNERS) == {"model_a", "model_b", "tie", "tie (bothbad)"}


# ------------------------------------------------------------------------------------------ bootstrap
def test_bootstrap_shape_and_reproducibility():
    votes = simulate(TRUE, 400, seed=4)
    table = bootstrap_ratings(votes, rounds=50, seed=7)
    assert list(table) == list(bradley_terry(votes))  # same order as the point estimates
    counts = vote_counts(votes)
    for name, row in table.items():
        assert set(row) == {"rating", "ci_low", "ci_high", "votes"}
        assert row["rating"] == pytest.approx(bradley_terry(votes)[name])
        assert row["ci_low"] < row["rating"] < row["ci_high"]
        assert row["votes"] == sum(counts[name].values())
    assert sum(row["votes"] for row in table.values()) == 2 * len(votes)
    assert bootstrap_ratings(votes, rounds=50, seed=7) == table
    assert bootstrap_ratings(votes, rounds=50, seed=8) != table
    # More votes, narrower intervals.
    big = bootstrap_ratings(simulate(TRUE, 3000, seed=4), rounds=50, seed=7)
    width = {n: r["ci_high"] - r["ci_low"] for n, r in table.items()}
    assert all(big[n]["ci_high"] - big[n]["ci_low"] < width[n] for n in TRUE)
    with pytest.raises(ValueError, match="rounds"):
        bootstrap_ratings(votes, rounds=0)


def test_bootstrap_skips_variants_absent_from_a_resample():
    """'rare' has one vote, a win: it is missing from ~37% of resamples. Those rounds must not count as rating it
    at the prior mean (1000); every round it is present in rates it above 1000."""
    votes = repeat("a", "b", "model_a", 20) + repeat("a", "b", "model_b", 20) + repeat("rare", "a", "model_a", 1)
    row = bootstrap_ratings(votes, rounds=100, seed=0)["rare"]
    assert row["votes"] == 1
    assert 1000 < row["ci_low"] <= row["rating"] <= row["ci_high"]


def test_bootstrap_ci_covers_the_truth():
    """40 seeded arenas (400 battles each, 5 variants, 10% ties), 100 bootstrap rounds each (reduced from the
    default 200 to keep this under ~10 s): the 95% CI of the top variant should cover its true centred rating in
    at least 80% of them (expected ~95%; an interval that is too narrow or off-centre drops well below)."""
    truth = centred(TRUE)["prompted"]
    covered = 0
    sims = 40
    for seed in range(sims):
        row = bootstrap_ratings(simulate(TRUE, 400, seed=100 + seed), rounds=100, seed=seed)["prompted"]
        covered += row["ci_low"] - 1000 <= truth <= row["ci_high"] - 1000
    assert covered / sims >= 0.8, f"covered {covered}/{sims}"


# ------------------------------------------------------------------------------------------ tables
def test_win_rate_matrix_and_counts():
    votes = (
        [{"model_a": "a", "model_b": "b", "winner": "model_a"},
         {"model_a": "b", "model_b": "a", "winner": "model_b"},  # a wins as B
         {"model_a": "b", "model_b": "a", "winner": "model_a"},  # b wins
         {"model_a": "a", "model_b": "b", "winner": "tie (bothbad)"},
         {"model_a": "a", "model_b": "c", "winner": "model_b"}]
    )
    rates = win_rate_matrix(votes)
    assert rates == {"a": {"b": 0.625, "c": 0.0}, "b": {"a": 0.375}, "c": {"a": 1.0}}
    assert vote_counts(votes) == {"a": {"b": 4, "c": 1}, "b": {"a": 4}, "c": {"a": 1}}
    big = simulate(TRUE, 1000, seed=9)
    rates = win_rate_matrix(big)
    for a in rates:
        for b in rates[a]:
            assert rates[a][b] + rates[b][a] == pytest.approx(1.0)
    # The strongest beats the weakest far more often than not (true p = 0.909).
    assert rates["prompted"]["chat55"] > 0.8


# ------------------------------------------------------------------------------------------ fool rates
def test_fool_rates_with_wilson_intervals():
    guesses = ([Guess("chat72", True)] * 5 + [Guess("chat72", False)] * 5
               + [{"variant": "blog", "fooled": False}] * 4 + [{"variant": "prompted", "fooled": 1}] * 10)
    rates = fool_rates(guesses)
    assert list(rates) == ["prompted", "chat72", "blog"]  # most convincing first
    half = rates["chat72"]
    assert half["fool_rate"] == 0.5 and half["n"] == 10
    assert half["ci_low"] == pytest.approx(0.2366, abs=5e-4) and half["ci_high"] == pytest.approx(0.7634, abs=5e-4)
    never = rates["blog"]
    assert never["fool_rate"] == 0 and never["ci_low"] == 0 and never["ci_high"] == pytest.approx(0.4899, abs=5e-4)
    always = rates["prompted"]
    assert always["fool_rate"] == 1 and always["ci_high"] == 1 and always["ci_low"] == pytest.approx(0.7225, abs=5e-4)
    assert wilson_interval(5, 10) == (half["ci_low"], half["ci_high"])


def test_fool_rates_refuse_ambiguous_flags():
    with pytest.raises(ValueError, match=r"guess #0: fooled must be a bool"):
        fool_rates([{"variant": "a", "fooled": "false"}])  # truthy string: would silently count as fooled
    with pytest.raises(ValueError, match=r"has no 'variant'"):
        fool_rates([{"fooled": True}])


# ------------------------------------------------------------------------------------------ online Elo
def test_elo_online_steps_and_order_dependence():
    assert elo_online([{"model_a": "a", "model_b": "b", "winner": "model_a"}]) == {"a": 1002.0, "b": 998.0}
    assert elo_online([{"model_a": "a", "model_b": "b", "winner": "tie"}]) == {"a": 1000.0, "b": 1000.0}
    votes = repeat("a", "b", "model_a", 20) + repeat("a", "b", "model_b", 20)
    forward, backward = elo_online(votes), elo_online(votes[::-1])
    assert forward["a"] < 1000 < backward["a"]  # same votes, opposite verdicts: order-dependent
    assert bradley_terry(votes) == pytest.approx(bradley_terry(votes[::-1]))  # Bradley-Terry is not


# ------------------------------------------------------------------------------------------ empty inputs
def test_empty_inputs_give_empty_outputs():
    assert bradley_terry([]) == {}
    assert bootstrap_ratings([]) == {}
    assert win_rate_matrix([]) == {}
    assert vote_counts([]) == {}
    assert fool_rates([]) == {}
    assert elo_online([]) == {}
    assert bradley_terry(iter([])) == {}  # any iterable, including a generator from the store
