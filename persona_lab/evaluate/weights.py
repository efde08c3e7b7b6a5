"""The composite's weights, fitted on training data to put the controls in their known order.

We know how the controls must rank: my real reply above everything; my real replies to other contexts
(me_elsewhere) and my copied training replies above another person, generic small talk, a constant reply and
a caricature of me; another person above generic small talk. For each ordering and each point of the
simplex (a grid, step ``STEP``), the margin is standardised: the mean over bootstrap replicates of
(composite of the higher control - composite of the lower) divided by its standard deviation. The weights
maximise the sum of those margins, each counted up to ``Z_CLEAR``: every ordering pulls until it is
clearly made, and none is bought by giving up another; among weightings that make them all, the one with
the largest smallest margin. An ordering that no weighting can make is left out
of the sum and reported (a defect of the metrics on this data, not something weights can fix).

Where: on the latest slice of the training file (profile.dev), with controls built there exactly as for the
evaluation, never on the held-out evaluation file. Cross-fitted: the dev items are split into the two folds
by conversation; the weights are fitted on each fold and checked on the other, and the final weights are
the mean of the two fits. The report prints the check (the smallest margin on the fold not fitted on).

Once the arena has enough decisive votes (``arena.min_votes``), the friends' votes choose among the
weightings that keep every achievable control ordering above 0 on the dev slice: the one whose composite
agrees with the most votes on which variant read more like me (ties: the dev objective above). The votes
can move the weights, never past a weighting that ranks a control out of order. Checked by fitting on
half the raters and counting agreement on the other half.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from persona_lab.evaluate.controls import build_controls
from persona_lab.evaluate.crossfit import split
from persona_lab.evaluate.stats import slots
from persona_lab.ratings import DECISIVE

STEP = 0.05
Z_CLEAR = 3.0  # an ordering this many standard deviations clear needs no more weight
MIN_DEV_ITEMS = 40
ORDERINGS = ([("real", c) for c in ("me_elsewhere", "copy_train", "other_person", "generic", "constant",
                                     "caricature")]
             + [(me, c) for me in ("me_elsewhere", "copy_train")
                for c in ("other_person", "generic", "constant", "caricature")]
             + [("other_person", "generic")])


def simplex(m: int, step: float = STEP) -> np.ndarray:
    units = round(1 / step)
    points = [c for c in itertools.product(range(units + 1), repeat=m) if sum(c) == units]
    return np.array(points, dtype=float) / units


@dataclass
class DevFit:
    """The weights fitted on the dev slice, and what the vote fit needs to stay within its constraints."""

    weights: dict[str, float]
    basis: dict[str, Any]
    names: list[str]
    grid: np.ndarray | None = None  # the simplex points tried
    z: np.ndarray | None = None  # (grid points, orderings) standardised margins on every dev item
    achievable: np.ndarray | None = None  # orderings some weighting makes
    orderings: list[tuple[str, str]] = field(default_factory=list)
    values: dict[str, tuple] = field(default_factory=dict)  # per control, replicate values on every dev item


def fit_weights(profile, metrics: dict[str, Any], *, n_boot: int = 200, seed: int = 0) -> DevFit:
    from persona_lab.evaluate.score import Scoring  # here, not at the top: score.py imports this module

    names = [m for m, metric in metrics.items() if metric.role == "score"]
    equal = {m: round(1 / len(names), 4) for m in names}
    if len(profile.dev) < MIN_DEV_ITEMS:
        return DevFit(equal, {"method": "equal", "text": f"equal: the training file's dev slice has {len(profile.dev)} "
                              f"items, fewer than the {MIN_DEV_ITEMS} needed to fit weights"}, names)
    items = split(profile.dev)
    controls, _ = build_controls(items, profile, seed + 1)
    needed = {m: metric for m, metric in metrics.items() if metric.role in ("score", "gate")}
    candidates = {c: [[] if r is None else [r] for r in replies] for c, replies in controls.items()}
    scoring = Scoring(items, needed, candidates, equal, n_boot, seed + 1)
    gate = scoring.gate
    orderings = [(hi, lo) for hi, lo in ORDERINGS if hi in controls and lo in controls]
    grid = simplex(len(names))
    fits = []
    for fold in (0, 1):
        fit_on = _replicate_values(scoring, names, gate, items.fold == fold)
        check_on = _replicate_values(scoring, names, gate, items.fold != fold)
        z_fit = _margins(fit_on, orderings, grid)
        # an ordering no weighting can produce is a metric defect to report, not a reason to give up
        # every other ordering: it is left out of the objective
        achievable = z_fit.max(axis=0) > 0
        best = best_point(z_fit[:, achievable])
        z_check = _margins(check_on, orderings, grid[best:best + 1])[0]
        fits.append({"fold": fold, "weights": dict(zip(names, grid[best].tolist())),
                     "min_z_fitted": float(z_fit[best][achievable].min()) if achievable.any() else None,
                     "min_z_check": float(z_check.min()),
                     "weakest_check": "{} > {}".format(*orderings[int(np.argmin(z_check))]),
                     "not_achievable": ["{} > {}".format(*o) for o, ok in zip(orderings, achievable) if not ok]})
    weights = {m: float(np.mean([f["weights"][m] for f in fits])) for m in names}
    both = _replicate_values(scoring, names, gate, np.ones(items.n, dtype=bool))
    text = (f"fitted on {items.n} dev items from the training file (never the evaluation file) to keep the "
            f"controls in order; smallest standardised margin on the fold not fitted on: "
            + ", ".join(f"{f['min_z_check']:.1f} ({f['weakest_check']})" for f in fits))
    basis = {"method": "fitted", "text": text, "dev_items": items.n, "folds": fits,
             "orderings": [f"{hi} > {lo}" for hi, lo in orderings],
             "margins_z": _margins_at(both, orderings, names, weights)}
    z_grid = _margins(both, orderings, grid)
    return DevFit(weights, basis, names, grid, z_grid, z_grid.max(axis=0) > 0, orderings, both)


def _margins_at(values: dict[str, tuple], orderings: list[tuple[str, str]], names: list[str],
                weights: dict[str, float]) -> dict[str, float]:
    z = _margins(values, orderings, np.array([[weights[m] for m in names]]))[0]
    return {f"{hi} > {lo}": float(v) for (hi, lo), v in zip(orderings, z)}


# ------------------------------------------------------------------------------------ from the arena


def decisive_votes(votes: list[dict[str, Any]], scored: set[str]) -> list[dict[str, Any]]:
    """Votes with a winner ("tie" and "neither" say nothing about the order) between two scored variants."""
    return [v for v in votes if v.get("winner") in DECISIVE
            and v.get("model_a") in scored and v.get("model_b") in scored and v["model_a"] != v["model_b"]]


def vote_agreement(points: np.ndarray, values: dict[str, tuple[np.ndarray, np.ndarray]],
                   votes: list[dict[str, Any]]) -> np.ndarray:
    """Per weighting (rows of ``points``): the share of ``votes`` whose winner has the higher composite (an
    exact tie counts half). ``values``: per variant, (samples, metrics) point values and (samples,) gates;
    the composite is the mean over samples, as in the report."""
    composite = {v: (g[:, None] * (m @ points.T)).mean(axis=0) for v, (m, g) in values.items()}
    agree = np.zeros(len(points))
    for vote in votes:
        winner, loser = ((vote["model_a"], vote["model_b"]) if vote["winner"] == "model_a"
                         else (vote["model_b"], vote["model_a"]))
        difference = composite[winner] - composite[loser]
        agree += (difference > 1e-12) + 0.5 * (np.abs(difference) <= 1e-12)
    return agree / max(len(votes), 1)


def weights_from_votes(dev: DevFit, values: dict[str, tuple[np.ndarray, np.ndarray]],
                       votes: list[dict[str, Any]]) -> tuple[dict[str, float], dict[str, Any]]:
    """The weighting that agrees with the most ``votes`` among those that keep the dev slice's achievable
    control orderings above 0 (see the module's doc). ``votes`` carry ``rater_id`` for the held-out check."""
    grid = dev.grid if dev.grid is not None else simplex(len(dev.names))
    if dev.z is not None and dev.achievable is not None and dev.achievable.any():
        in_order = (dev.z[:, dev.achievable] > 0).all(axis=1)
        if not in_order.any():  # nothing keeps them all: the dev fit is the only admissible weighting
            in_order = np.zeros(len(grid), dtype=bool)
            in_order[best_point(dev.z[:, dev.achievable])] = True
        tiebreak = np.round(np.minimum(dev.z[:, dev.achievable], Z_CLEAR).sum(axis=1), 9)
    else:  # no dev fit (too few dev items): the votes alone, ties towards equal weights
        in_order = np.ones(len(grid), dtype=bool)
        tiebreak = -np.abs(grid - 1 / grid.shape[1]).sum(axis=1)
    admissible = np.flatnonzero(in_order)

    def fit(subset: list[dict[str, Any]]) -> int:
        agreement = np.round(vote_agreement(grid[admissible], values, subset), 9)
        return int(admissible[np.lexsort((-tiebreak[admissible], -agreement))[0]])

    best = fit(votes)
    weights = dict(zip(dev.names, grid[best].tolist()))
    dev_point = np.array([[dev.weights[m] for m in dev.names]])
    agree_votes = float(vote_agreement(grid[best:best + 1], values, votes)[0])
    agree_dev = float(vote_agreement(dev_point, values, votes)[0])
    check = _held_out_by_rater(grid, values, votes, fit)
    text = (f"fitted to the arena's {len(votes)} decisive votes among the {len(admissible)} of {len(grid)} "
            f"weightings that keep the controls in order on the training file's dev slice: the composite agrees "
            f"with {agree_votes:.0%} of the votes (the dev-fitted weights: {agree_dev:.0%})"
            + (f"; fitted on half the raters, it agrees with {check['agreement']:.0%} of the other half's votes"
               if check else
               "; one rater only, so no held-out check"))
    basis = {"method": "arena", "text": text, "votes": len(votes), "admissible": len(admissible),
             "agreement": agree_votes, "agreement_dev_weights": agree_dev, "held_out": check,
             "dev": {k: v for k, v in dev.basis.items() if k not in ("margins_z", "folds")}, "dev_weights": dev.weights,
             "folds": dev.basis.get("folds", [])}
    if dev.values:
        basis["margins_z"] = _margins_at(dev.values, dev.orderings, dev.names, weights)
    return weights, basis


def _held_out_by_rater(grid: np.ndarray, values, votes: list[dict[str, Any]], fit) -> dict[str, Any] | None:
    """Raters split in two (alternately, in sorted order); fit on each half, count agreement on the other."""
    raters = sorted({str(v.get("rater_id")) for v in votes})
    if len(raters) < 2:
        return None
    halves = [[v for v in votes if raters.index(str(v.get("rater_id"))) % 2 == h] for h in (0, 1)]
    agree, n = 0.0, 0
    for fit_on, check_on in (halves, halves[::-1]):
        best = fit(fit_on)
        agree += float(vote_agreement(grid[best:best + 1], values, check_on)[0]) * len(check_on)
        n += len(check_on)
    return {"agreement": agree / n, "votes": n} if n else None


def best_point(z: np.ndarray) -> int:
    """The grid point with the largest sum of margins counted up to Z_CLEAR; among equals (every ordering
    clear), the one whose smallest margin is largest."""
    capped = np.round(np.minimum(z, Z_CLEAR).sum(axis=1), 9)
    return int(np.lexsort((-z.min(axis=1), -capped))[0])


def _replicate_values(scoring, names: list[str], gate: str | None, mask: np.ndarray) -> dict[str, tuple]:
    """Per control: (B, M) score-metric values and (B,) gate, one row per bootstrap replicate, on the
    contexts of ``mask`` (the same contexts for every control within a replicate)."""
    out = {}
    which = names + ([gate] if gate else [])
    for control in scoring.rows:
        values, gates = [], []
        for r in range(scoring.replicates.n_boot):
            items, draws = scoring.replicates.items[r], scoring.replicates.draws[r]
            slot = slots(draws, scoring.k[control])
            keep = mask[items] & scoring.present[control][items, slot]
            v = scoring.values(control, items[keep], slot[keep], which)
            values.append([v[m] for m in names])
            gates.append(v[gate] if gate else 1.0)
        out[control] = (np.array(values), np.array(gates))
    return out


def _margins(values: dict[str, tuple], orderings: list[tuple[str, str]], grid: np.ndarray) -> np.ndarray:
    """(grid points, orderings) standardised margins."""
    z = np.empty((len(grid), len(orderings)))
    for j, (hi, lo) in enumerate(orderings):
        (v_hi, g_hi), (v_lo, g_lo) = values[hi], values[lo]
        difference = g_hi[:, None] * (v_hi @ grid.T) - g_lo[:, None] * (v_lo @ grid.T)  # (B, grid)
        z[:, j] = difference.mean(axis=0) / np.maximum(difference.std(axis=0), 1e-9)
    return z
