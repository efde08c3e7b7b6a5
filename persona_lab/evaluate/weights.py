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
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from persona_lab.evaluate.controls import build_controls
from persona_lab.evaluate.crossfit import split
from persona_lab.evaluate.stats import slots

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


def fit_weights(profile, metrics: dict[str, Any], *, n_boot: int = 200, seed: int = 0) -> tuple[dict[str, float], dict[str, Any]]:
    from persona_lab.evaluate.score import Scoring

    names = [m for m, metric in metrics.items() if metric.role == "score"]
    equal = {m: round(1 / len(names), 4) for m in names}
    if len(profile.dev) < MIN_DEV_ITEMS:
        return equal, {"method": "equal", "text": f"equal: the training file's dev slice has {len(profile.dev)} "
                       f"items, fewer than the {MIN_DEV_ITEMS} needed to fit weights"}
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
    z_all = _margins(both, orderings, np.array([[weights[m] for m in names]]))[0]
    text = (f"fitted on {items.n} dev items from the training file (never the evaluation file) to keep the "
            f"controls in order; smallest standardised margin on the fold not fitted on: "
            + ", ".join(f"{f['min_z_check']:.1f} ({f['weakest_check']})" for f in fits))
    return weights, {"method": "fitted", "text": text, "dev_items": items.n, "folds": fits,
                     "orderings": [f"{hi} > {lo}" for hi, lo in orderings],
                     "margins_z": {f"{hi} > {lo}": float(z) for (hi, lo), z in zip(orderings, z_all)}}


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
