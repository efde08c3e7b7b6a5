"""Arena ratings: Bradley-Terry strengths with bootstrap CIs, win-rate tables and "Real or clone?" fool rates.

The maths behind the arena leaderboard, kept apart from the UI and the store so it can be tested on its own
(the shape FastChat uses in ``fastchat/serve/monitor/rating_systems.py``; the code here is our own).

Method
------
* **Bradley-Terry (the ranking to show).** Each variant ``i`` has a strength ``s_i`` and
  ``P(i beats j) = 1 / (1 + exp(s_j - s_i))``. The strengths are fitted by maximum likelihood as a logistic
  regression without intercept: one row per battle with ``+1`` in ``model_a``'s column and ``-1`` in
  ``model_b``'s, label "A won". Battles are first aggregated per pair and outcome, so a fit has at most
  ``2 * pairs`` weighted rows however many votes there are. Strengths are reported on the Elo scale:
  ``rating = scale * s / ln(base) + init`` (400, 10 and 1000 by default, so a 400-point gap means 10:1 odds).
* **Ties.** ``"tie"`` and ``"tie (bothbad)"`` (the UI's "neither") both count as half a win for each side, as
  FastChat does: the pair gets an "A won" row and a "B won" row with weight 0.5 each. This is the Bradley-Terry
  likelihood with fractional scores; it has no separate tie parameter, and "both bad" carries no information
  about the absolute quality of the two replies, only that neither was preferred.
* **A weak prior keeps every rating finite.** A variant that never lost (or never won) has no finite MLE: the
  likelihood keeps rising as its strength goes to infinity. We therefore fit with a small L2 penalty, which is
  a Gaussian prior ``s_i ~ N(0, prior_sd**2)`` on the natural (log-odds) scale; in scikit-learn's terms
  ``C = prior_sd**2`` (its objective is ``0.5 * ||s||**2 + C * sum(weight * log-loss)``). The default
  ``prior_sd = 4`` (about 695 Elo points at scale 400, base 10) is weak next to the information in a few dozen
  votes, so well-supported ratings move by a point or two at most, but a variant that beat two equal opponents
  20 times out of 20 lands about 800 points above them instead of at infinity (5 out of 5 against one: about
  650). Treat such a rating as "at least this good", and look at its interval and vote count. The same penalty also pins down the otherwise free
  offset (the likelihood depends only on differences): at the optimum the strengths sum to zero, so **the mean
  rating of the variants is exactly ``init``** and ratings are relative to that mean.
* **Bootstrap CIs.** ``bootstrap_ratings`` refits on ``rounds`` resamples of the votes drawn with replacement
  and reports the 2.5th and 97.5th percentiles (a percentile 95% interval) next to the point estimate from all
  votes. A variant that happens to be absent from a resample is left out of that round's percentiles.
* **Fool rates.** In a "Real or clone?" round the rater sees a real reply and a clone's reply and picks the one
  they think is real; ``fooled`` means they picked the clone. The fool rate is the share of such guesses per
  variant with a Wilson score 95% interval (sensible at 0/n and n/n, unlike the normal approximation).
  0.5 means raters cannot tell the clone from the person.
* **Online Elo** (``elo_online``) is here for comparison only: it depends on the order of the votes, and with
  ``k = 4`` it moves slowly. Do not rank by it.

Assumptions (where they fail, the numbers are less trustworthy than their intervals suggest)
--------------------------------------------------------------------------------------------
* Votes are independent and exchangeable. Votes from one rater, or many on one prompt, are correlated; the
  bootstrap resamples single votes, so its intervals are then too narrow.
* Preference is one-dimensional and transitive (Bradley-Terry cannot represent A > B > C > A), and all
  raters share it.
* No position bias: the model has no "left side" term, so the UI must randomise which variant is A.
* The comparison graph is connected. Variants in separate groups that never met each other (directly or via
  others) cannot be compared; the prior centres each group on ``init`` separately.
* Intervals are per variant and marginal; "A's and B's intervals overlap" is not a test of A vs B.

Inputs are :class:`Vote` / :class:`Guess` dataclasses or mappings with the same keys (rows from the store).
Empty inputs give empty outputs; malformed ones raise ``ValueError`` saying which item and why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

WINNERS: tuple[str, ...] = ("model_a", "model_b", "tie", "tie (bothbad)")
"""The accepted values of ``Vote.winner`` (FastChat's names), defined here only: the store's CHECK constraint,
the arena's buttons and every reader of votes take them from here. The UI's "neither / both bad" is stored as
``"tie (bothbad)"``."""

DECISIVE: tuple[str, ...] = WINNERS[:2]
"""The winners that order two variants; a tie or "neither" says nothing about which sounds more like me."""

PRIOR_SD: float = 4.0
"""Default standard deviation of the Gaussian prior on natural-scale strengths (see the module docstring)."""

Z95: float = 1.959963984540054
"""The two-sided 95% normal quantile."""

# The score of model_a for each outcome: ties of both kinds are half a win for each side.
_SCORE_A: dict[str, float] = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie (bothbad)": 0.5}


@dataclass(frozen=True)
class Vote:
    """One arena battle: two variants, shown as A and B, and the rater's verdict."""

    model_a: str
    model_b: str
    winner: str  # one of WINNERS


@dataclass(frozen=True)
class Guess:
    """One "Real or clone?" round: ``fooled`` is True when the rater picked the clone's reply as the real one."""

    variant: str
    fooled: bool


class RatingCI(TypedDict):
    rating: float
    ci_low: float
    ci_high: float
    votes: int


class FoolRate(TypedDict):
    fool_rate: float
    ci_low: float
    ci_high: float
    n: int


VoteLike = Vote | Mapping[str, Any]
GuessLike = Guess | Mapping[str, Any]


# --------------------------------------------------------------------------------------------- input checks
def _field(item: Any, name: str, kind: str, index: int) -> Any:
    if isinstance(item, Mapping):
        if name not in item:
            raise ValueError(f"{kind} #{index} has no '{name}': {item!r}")
        return item[name]
    if not hasattr(item, name):
        raise ValueError(f"{kind} #{index} has no '{name}': {item!r}")
    return getattr(item, name)


def _parse_votes(votes: Iterable[VoteLike]) -> list[tuple[str, str, float]]:
    """(model_a, model_b, score of model_a) per vote, after checking every field."""
    parsed: list[tuple[str, str, float]] = []
    for i, vote in enumerate(votes):
        a = _field(vote, "model_a", "vote", i)
        b = _field(vote, "model_b", "vote", i)
        winner = _field(vote, "winner", "vote", i)
        for side, name in (("model_a", a), ("model_b", b)):
            if not isinstance(name, str) or not name:
                raise ValueError(f"vote #{i}: {side} must be a non-empty string, got {name!r}")
        if a == b:
            raise ValueError(f"vote #{i}: a variant cannot battle itself ({a!r} vs {b!r})")
        if winner not in _SCORE_A:
            raise ValueError(f"vote #{i}: unknown winner {winner!r}. Available: {', '.join(WINNERS)}")
        parsed.append((a, b, _SCORE_A[winner]))
    return parsed


def _parse_guesses(guesses: Iterable[GuessLike]) -> list[tuple[str, bool]]:
    parsed: list[tuple[str, bool]] = []
    for i, guess in enumerate(guesses):
        variant = _field(guess, "variant", "guess", i)
        fooled = _field(guess, "fooled", "guess", i)
        if not isinstance(variant, str) or not variant:
            raise ValueError(f"guess #{i}: variant must be a non-empty string, got {variant!r}")
        # bool, numpy bool, or the 0/1 SQLite stores; a string such as "false" would be truthy, so refuse it.
        if isinstance(fooled, (bool, np.bool_)) or (isinstance(fooled, (int, np.integer)) and fooled in (0, 1)):
            parsed.append((variant, bool(fooled)))
        else:
            raise ValueError(f"guess #{i}: fooled must be a bool (or 0/1), got {fooled!r}")
    return parsed


def _check_scale(scale: float, base: float) -> None:
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    if not base > 1:
        raise ValueError(f"base must be greater than 1, got {base!r}")


def _sorted_desc(ratings: Mapping[str, float]) -> dict[str, float]:
    return dict(sorted(ratings.items(), key=lambda kv: (-kv[1], kv[0])))


# ------------------------------------------------------------------------------------------ Bradley-Terry
class _Design:
    """Votes indexed once, so a bootstrap round only changes per-vote weights.

    ``pair[v]`` is the index of vote v's unordered pair; ``lo_score[v]`` is the score (1, 0.5, 0) of that pair's
    first-named (lower-index) variant in vote v. The design matrix has two rows per pair that met: the same
    ``+1 (lo) / -1 (hi)`` indicator row, labelled "lo won" and "hi won"; their weights are the lo and hi scores
    summed over that pair's votes.
    """

    def __init__(self, parsed: list[tuple[str, str, float]]) -> None:
        self.models: list[str] = sorted({m for a, b, _ in parsed for m in (a, b)})
        index = {m: i for i, m in enumerate(self.models)}
        ia = np.array([index[a] for a, _, _ in parsed], dtype=np.int64)
        ib = np.array([index[b] for _, b, _ in parsed], dtype=np.int64)
        score_a = np.array([s for _, _, s in parsed], dtype=np.float64)
        lo, hi = np.minimum(ia, ib), np.maximum(ia, ib)
        self.lo_score = np.where(ia == lo, score_a, 1.0 - score_a)
        pairs, self.pair = np.unique(lo * len(self.models) + hi, return_inverse=True)
        self.n_pairs = len(pairs)
        self.ia, self.ib = ia, ib
        x = np.zeros((self.n_pairs, len(self.models)))
        rows = np.arange(self.n_pairs)
        x[rows, pairs // len(self.models)] = 1.0
        x[rows, pairs % len(self.models)] = -1.0
        self.x = np.vstack([x, x])
        self.y = np.concatenate([np.ones(self.n_pairs, dtype=int), np.zeros(self.n_pairs, dtype=int)])

    def votes_per_model(self, vote_weights: np.ndarray) -> np.ndarray:
        k = len(self.models)
        return np.bincount(self.ia, vote_weights, k) + np.bincount(self.ib, vote_weights, k)

    def fit(self, vote_weights: np.ndarray, prior_sd: float) -> np.ndarray:
        """Natural-scale strengths (summing to zero) for votes weighted by ``vote_weights``."""
        from sklearn.linear_model import LogisticRegression  # lazy: keep importing this module cheap

        lo_wins = np.bincount(self.pair, vote_weights * self.lo_score, self.n_pairs)
        hi_wins = np.bincount(self.pair, vote_weights * (1.0 - self.lo_score), self.n_pairs)
        sample_weight = np.concatenate([lo_wins, hi_wins])
        if not sample_weight.sum() > 0:
            return np.zeros(len(self.models))
        model = LogisticRegression(C=prior_sd**2, fit_intercept=False, tol=1e-10, max_iter=10_000)
        model.fit(self.x, self.y, sample_weight=sample_weight)
        return model.coef_[0]


def _to_elo(strengths: np.ndarray, scale: float, base: float, init: float) -> np.ndarray:
    return scale * strengths / math.log(base) + init


def _checked_votes(votes: Iterable[VoteLike], scale: float, base: float, prior_sd: float):
    """The parsed votes, after checking the scale and the prior (shared by both fits)."""
    _check_scale(scale, base)
    if not prior_sd > 0:
        raise ValueError(f"prior_sd must be positive, got {prior_sd!r}")
    return _parse_votes(votes)


def bradley_terry(
    votes: Iterable[VoteLike],
    scale: float = 400,
    base: float = 10,
    init: float = 1000,
    *,
    prior_sd: float = PRIOR_SD,
) -> dict[str, float]:
    """Bradley-Terry ratings on the Elo scale, best first; their mean is ``init``. No votes: ``{}``.

    ``prior_sd`` is the sd of the Gaussian prior on natural-scale strengths (``C = prior_sd**2``); it keeps a
    variant that never lost finite. Pass a large value (e.g. 1e3) to get the plain MLE where it exists.
    """
    parsed = _checked_votes(votes, scale, base, prior_sd)
    if not parsed:
        return {}
    design = _Design(parsed)
    ratings = _to_elo(design.fit(np.ones(len(parsed)), prior_sd), scale, base, init)
    return _sorted_desc(dict(zip(design.models, ratings.tolist(), strict=True)))


def bootstrap_ratings(
    votes: Iterable[VoteLike],
    rounds: int = 200,
    seed: int = 0,
    *,
    scale: float = 400,
    base: float = 10,
    init: float = 1000,
    prior_sd: float = PRIOR_SD,
) -> dict[str, RatingCI]:
    """Bradley-Terry ratings with percentile 95% bootstrap intervals, best first. No votes: ``{}``.

    Returns ``{variant: {"rating", "ci_low", "ci_high", "votes"}}``: ``rating`` is the fit on all votes (as
    :func:`bradley_terry`), the interval is the 2.5th-97.5th percentile of ``rounds`` refits on votes resampled
    with replacement (``seed`` makes it reproducible), ``votes`` is how many votes involved the variant. Use 100+
    rounds for numbers you show. A variant missing from every resample (possible only with very few votes and
    rounds) gets NaN bounds.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds!r}")
    parsed = _checked_votes(votes, scale, base, prior_sd)
    if not parsed:
        return {}
    design = _Design(parsed)
    n = len(parsed)
    full = np.ones(n)
    point = _to_elo(design.fit(full, prior_sd), scale, base, init)
    counts = design.votes_per_model(full)

    rng = np.random.default_rng(seed)
    samples = np.empty((rounds, len(design.models)))
    for r in range(rounds):
        weights = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        ratings = _to_elo(design.fit(weights, prior_sd), scale, base, init)
        # A variant with no votes in this resample only has its prior; leave it out of the percentiles.
        ratings[design.votes_per_model(weights) == 0] = np.nan
        samples[r] = ratings

    result: dict[str, RatingCI] = {}
    for j, model in enumerate(design.models):
        column = samples[:, j]
        column = column[~np.isnan(column)]
        low, high = (np.percentile(column, [2.5, 97.5]).tolist() if column.size else (math.nan, math.nan))
        result[model] = RatingCI(rating=float(point[j]), ci_low=low, ci_high=high, votes=int(counts[j]))
    return dict(sorted(result.items(), key=lambda kv: (-kv[1]["rating"], kv[0])))


# ------------------------------------------------------------------------------------------ simple tables
def vote_counts(votes: Iterable[VoteLike]) -> dict[str, dict[str, int]]:
    """``counts[a][b]`` = battles between a and b (symmetric; either side as A). Pairs that never met are absent.

    Same keys as :func:`win_rate_matrix`, so each share can be shown with its sample size.
    """
    counts: dict[str, dict[str, int]] = {}
    for a, b, _ in _parse_votes(votes):
        for x, y in ((a, b), (b, a)):
            row = counts.setdefault(x, {})
            row[y] = row.get(y, 0) + 1
    return {m: dict(sorted(counts[m].items())) for m in sorted(counts)}


def win_rate_matrix(votes: Iterable[VoteLike]) -> dict[str, dict[str, float]]:
    """``rates[a][b]`` = share of a-vs-b battles that a won, ties (both kinds) counting half.

    Either side may have been A. ``rates[a][b] + rates[b][a] == 1``. Pairs that never met are absent.
    """
    won: dict[str, dict[str, float]] = {}
    played: dict[str, dict[str, int]] = {}
    for a, b, score_a in _parse_votes(votes):
        for x, y, s in ((a, b, score_a), (b, a, 1.0 - score_a)):
            won_row, played_row = won.setdefault(x, {}), played.setdefault(x, {})
            won_row[y] = won_row.get(y, 0.0) + s
            played_row[y] = played_row.get(y, 0) + 1
    return {x: {y: won[x][y] / played[x][y] for y in sorted(won[x])} for x in sorted(won)}


# ------------------------------------------------------------------------------------------ fool rates
def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95% by default)."""
    if n <= 0:
        raise ValueError(f"n must be positive, got {n!r}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, n], got {successes!r} of {n!r}")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # The bounds at 0/n and n/n are exactly 0 and 1; set them so rounding cannot leave 0.9999999999999999.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def fool_rates(guesses: Iterable[GuessLike]) -> dict[str, FoolRate]:
    """Per variant: share of "Real or clone?" guesses where the rater took the clone for the real reply.

    Returns ``{variant: {"fool_rate", "ci_low", "ci_high", "n"}}`` with a Wilson 95% interval, highest fool rate
    first. No guesses: ``{}``.
    """
    fooled: dict[str, int] = {}
    total: dict[str, int] = {}
    for variant, was_fooled in _parse_guesses(guesses):
        fooled[variant] = fooled.get(variant, 0) + int(was_fooled)
        total[variant] = total.get(variant, 0) + 1
    result: dict[str, FoolRate] = {}
    for variant, n in total.items():
        low, high = wilson_interval(fooled[variant], n)
        result[variant] = FoolRate(fool_rate=fooled[variant] / n, ci_low=low, ci_high=high, n=n)
    return dict(sorted(result.items(), key=lambda kv: (-kv[1]["fool_rate"], kv[0])))


# ------------------------------------------------------------------------------------------ online Elo
def elo_online(
    votes: Iterable[VoteLike],
    k: float = 4,
    scale: float = 400,
    base: float = 10,
    init: float = 1000,
) -> dict[str, float]:
    """Classic sequential Elo updates, best first. For comparison only: the result depends on vote order.

    Each vote moves A by ``k * (score_a - expected_a)`` and B by the opposite, with
    ``expected_a = 1 / (1 + base ** ((r_b - r_a) / scale))``; ties of both kinds score 0.5.
    """
    _check_scale(scale, base)
    ratings: dict[str, float] = {}
    for a, b, score_a in _parse_votes(votes):
        ra, rb = ratings.get(a, float(init)), ratings.get(b, float(init))
        expected_a = 1.0 / (1.0 + base ** ((rb - ra) / scale))
        ratings[a] = ra + k * (score_a - expected_a)
        ratings[b] = rb - k * (score_a - expected_a)
    return _sorted_desc(ratings)


# ------------------------------------------------------------------------------------------ style control
# Why not a library: `choix` (0.4.1) fits plain Bradley-Terry/Luce models but takes no per-battle covariate,
# so it cannot control for length; its plain fit is the same MLE as ``bradley_terry`` above. `arena-rank`
# (0.1.1, LMArena's own package, which has a contextual/style-controlled Bradley-Terry) pins numpy==2.3.3 and
# jax==0.8.1: it would downgrade this environment's numpy (2.4) and add JAX for a fit that is one more column
# in the logistic regression we already run. So the style-controlled fit below is that regression, written
# the way LMArena describes style control (lmsys blog, "Controlling for Style in Chatbot Arena", 2024-08-28):
# the battle's feature is the normalised length difference (len_a - len_b) / (len_a + len_b), scaled to unit
# standard deviation, with its own coefficient next to the variants' strengths.
LENGTH_KEYS: tuple[str, str] = ("len_a", "len_b")
"""The keys of a vote that carry the characters of reply A and reply B (over all turns of the battle)."""


class StyleControlled(TypedDict):
    ratings: dict[str, RatingCI]
    plain: dict[str, RatingCI]
    length_coef: float
    length_ci: tuple[float, float]
    length_sd: float
    votes: int


def _length_feature(votes: list[VoteLike]) -> np.ndarray:
    """(len_a - len_b) / (len_a + len_b) per vote (0 when both replies are empty), in [-1, 1].

    Not centred: swapping A and B must flip the feature's sign, and a mean that is not 0 would act as a
    side bonus (position bias has its own measure, ``position_bias``)."""
    out = np.zeros(len(votes))
    for i, vote in enumerate(votes):
        la, lb = (_field(vote, key, "vote", i) for key in LENGTH_KEYS)
        if not all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) and x >= 0 for x in (la, lb)):
            raise ValueError(f"vote #{i}: len_a and len_b must be non-negative whole numbers, got {la!r}, {lb!r}")
        out[i] = (la - lb) / (la + lb) if la + lb else 0.0
    return out


class _StyleDesign:
    """One row per vote (two half-weight rows for a tie): +1/-1 model indicators and the scaled length
    feature. Per-vote rows, unlike ``_Design``'s per-pair aggregation, because each battle has its own
    length difference."""

    def __init__(self, parsed: list[tuple[str, str, float]], feature: np.ndarray) -> None:
        self.models = sorted({m for a, b, _ in parsed for m in (a, b)})
        index = {m: i for i, m in enumerate(self.models)}
        n, k = len(parsed), len(self.models)
        sd = float(feature.std())
        self.length_sd = sd
        # A constant feature (every battle the same length gap, e.g. all 0) carries no information: keep the
        # column at 0 so the fit reduces to plain Bradley-Terry instead of dividing by 0.
        scaled = feature / sd if sd > 1e-12 else np.zeros(n)
        x = np.zeros((n, k + 1))
        rows = np.arange(n)
        x[rows, [index[a] for a, _, _ in parsed]] = 1.0
        x[rows, [index[b] for _, b, _ in parsed]] = -1.0
        x[:, k] = scaled
        self.x = np.vstack([x, x])
        self.y = np.concatenate([np.ones(n, dtype=int), np.zeros(n, dtype=int)])
        self.score_a = np.array([s for _, _, s in parsed])
        self.ia = np.array([index[a] for a, _, _ in parsed])
        self.ib = np.array([index[b] for _, b, _ in parsed])

    def fit(self, vote_weights: np.ndarray, prior_sd: float) -> tuple[np.ndarray, float]:
        """(natural-scale strengths, length coefficient in log-odds per sd of the feature)."""
        from sklearn.linear_model import LogisticRegression

        weight = np.concatenate([vote_weights * self.score_a, vote_weights * (1.0 - self.score_a)])
        if not weight.sum() > 0:
            return np.zeros(len(self.models)), 0.0
        model = LogisticRegression(C=prior_sd**2, fit_intercept=False, tol=1e-10, max_iter=10_000)
        model.fit(self.x, self.y, sample_weight=weight)
        return model.coef_[0][:-1], float(model.coef_[0][-1])

    def votes_per_model(self, vote_weights: np.ndarray) -> np.ndarray:
        k = len(self.models)
        return np.bincount(self.ia, vote_weights, k) + np.bincount(self.ib, vote_weights, k)


def style_controlled_bradley_terry(
    votes: Iterable[VoteLike], scale: float = 400, base: float = 10, init: float = 1000, *,
    prior_sd: float = PRIOR_SD,
) -> tuple[dict[str, float], float]:
    """(ratings best first, length coefficient): Bradley-Terry with reply length as a covariate.

    Each vote needs ``len_a`` and ``len_b`` (characters of the two replies). The ratings are on the Elo scale
    like :func:`bradley_terry` and say how often a variant wins *at equal length*; the coefficient is the
    log-odds that A wins per standard deviation of the normalised length difference (positive: raters prefer
    the longer reply). No votes: ``({}, 0.0)``."""
    votes = list(votes)
    parsed = _checked_votes(votes, scale, base, prior_sd)
    if not parsed:
        return {}, 0.0
    design = _StyleDesign(parsed, _length_feature(votes))
    strengths, coef = design.fit(np.ones(len(parsed)), prior_sd)
    ratings = _to_elo(strengths, scale, base, init)
    return _sorted_desc(dict(zip(design.models, ratings.tolist(), strict=True))), coef


def bootstrap_style_controlled(
    votes: Iterable[VoteLike], rounds: int = 200, seed: int = 0, *, scale: float = 400, base: float = 10,
    init: float = 1000, prior_sd: float = PRIOR_SD,
) -> StyleControlled:
    """Style-controlled ratings and the plain ones side by side, each with percentile 95% bootstrap CIs
    (the same resamples for both), and the length coefficient with its CI. No votes: empty tables."""
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds!r}")
    votes = list(votes)
    parsed = _checked_votes(votes, scale, base, prior_sd)
    if not parsed:
        return StyleControlled(ratings={}, plain={}, length_coef=0.0, length_ci=(math.nan, math.nan),
                               length_sd=0.0, votes=0)
    design = _StyleDesign(parsed, _length_feature(votes))
    plain_design = _Design(parsed)  # same model order: both sort the names
    n = len(parsed)
    full = np.ones(n)
    strengths, coef = design.fit(full, prior_sd)
    point, plain_point = _to_elo(strengths, scale, base, init), _to_elo(plain_design.fit(full, prior_sd), scale,
                                                                         base, init)
    rng = np.random.default_rng(seed)
    styled, plain, coefs = np.empty((rounds, len(design.models))), np.empty((rounds, len(design.models))), []
    for r in range(rounds):
        weights = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        absent = design.votes_per_model(weights) == 0
        s, c = design.fit(weights, prior_sd)
        styled[r], plain[r] = _to_elo(s, scale, base, init), _to_elo(plain_design.fit(weights, prior_sd), scale,
                                                                     base, init)
        styled[r][absent] = plain[r][absent] = np.nan
        coefs.append(c)
    counts = design.votes_per_model(full)

    def table(point_values: np.ndarray, samples: np.ndarray) -> dict[str, RatingCI]:
        out: dict[str, RatingCI] = {}
        for j, model in enumerate(design.models):
            column = samples[:, j][~np.isnan(samples[:, j])]
            low, high = np.percentile(column, [2.5, 97.5]).tolist() if column.size else (math.nan, math.nan)
            out[model] = RatingCI(rating=float(point_values[j]), ci_low=low, ci_high=high, votes=int(counts[j]))
        return dict(sorted(out.items(), key=lambda kv: (-kv[1]["rating"], kv[0])))

    low, high = np.percentile(coefs, [2.5, 97.5]).tolist()
    return StyleControlled(ratings=table(point, styled), plain=table(plain_point, plain), length_coef=coef,
                           length_ci=(low, high), length_sd=design.length_sd, votes=n)


# ------------------------------------------------------------------------------------------ position bias
class PositionBias(TypedDict):
    left_win_rate: float
    ci_low: float
    ci_high: float
    decisive: int
    ties: int


def position_bias(votes: Iterable[VoteLike]) -> PositionBias | None:
    """How often the reply shown on the left (A) wins among decisive votes, with a Wilson 95% interval.

    Sides are drawn at random, so without a bias this is 0.5 up to noise; an interval that excludes 0.5 says
    raters favour a side. Ties are counted apart (they favour neither). None without decisive votes."""
    parsed = _parse_votes(votes)
    decisive = [score for _, _, score in parsed if score in (0.0, 1.0)]
    if not decisive:
        return None
    left = int(sum(decisive))
    low, high = wilson_interval(left, len(decisive))
    return PositionBias(left_win_rate=left / len(decisive), ci_low=low, ci_high=high, decisive=len(decisive),
                        ties=len(parsed) - len(decisive))


# ------------------------------------------------------------------------------------------ rater consistency
class RaterConsistency(TypedDict):
    votes: int
    compared: int
    agreement: float | None
    ci_low: float | None
    ci_high: float | None
    left_rate: float | None
    tie_rate: float
    flags: list[str]


MIN_VOTES_TO_FLAG = 8
"""A rater with fewer votes is never flagged: their intervals are too wide to say anything."""


def rater_consistency(votes: Iterable[VoteLike]) -> dict[str, RaterConsistency]:
    """Per rater (votes need ``rater_id``): how often their decisive votes agree with the ratings fitted on
    everyone else's votes (leave-one-rater-out, so a rater cannot agree with themselves), with a Wilson 95%
    interval, plus their left-side and tie rates. Flags, for raters with ``MIN_VOTES_TO_FLAG`` votes or more:
      ``contrary``   agreement's interval lies below 0.5: they reliably prefer what the others rank lower
                     (a troll, or someone with a different idea of "sounds like the person");
      ``one_side``   left-side rate's interval lies outside [0.2, 0.8]: they press the same button whatever
                     the replies;
      ``never_decides``  90%+ ties or "neither".
    Flags inform; no vote is dropped automatically."""
    votes = list(votes)
    by_rater: dict[str, list[int]] = {}
    for i, vote in enumerate(votes):
        by_rater.setdefault(str(_field(vote, "rater_id", "vote", i)), []).append(i)
    parsed = _parse_votes(votes)
    out: dict[str, RaterConsistency] = {}
    for rater, mine in sorted(by_rater.items()):
        mine_set = set(mine)
        others = [votes[i] for i in range(len(votes)) if i not in mine_set]
        consensus = bradley_terry(others) if others else {}
        agree = compared = 0
        decisive = [parsed[i] for i in mine if parsed[i][2] in (0.0, 1.0)]
        for a, b, score in decisive:
            if a in consensus and b in consensus and consensus[a] != consensus[b]:
                compared += 1
                agree += (consensus[a] > consensus[b]) == (score == 1.0)
        left = sum(score == 1.0 for _, _, score in decisive)
        tie_rate = 1.0 - len(decisive) / len(mine)
        agreement = agree / compared if compared else None
        a_low, a_high = wilson_interval(agree, compared) if compared else (None, None)
        l_low, l_high = wilson_interval(left, len(decisive)) if decisive else (None, None)
        flags = []
        if len(mine) >= MIN_VOTES_TO_FLAG:
            if a_high is not None and a_high < 0.5:
                flags.append("contrary")
            if l_low is not None and (l_low > 0.8 or l_high < 0.2):
                flags.append("one_side")
            if tie_rate >= 0.9:
                flags.append("never_decides")
        out[rater] = RaterConsistency(votes=len(mine), compared=compared, agreement=agreement, ci_low=a_low,
                                      ci_high=a_high, left_rate=left / len(decisive) if decisive else None,
                                      tie_rate=tie_rate, flags=flags)
    return out
