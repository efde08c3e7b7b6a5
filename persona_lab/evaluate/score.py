"""Scoring: every candidate (variants and controls alike) against my real held-out replies, with paired
two-stage bootstrap intervals, an anchored fidelity score, per-audience results and a recommendation that
says "not separable" instead of picking from noise.

  composite  gate x weighted mean of the "score" metrics (authorship, style, context); the weights are
             fitted on training data (weights.py) unless the config sets them
  fidelity   (composite - composite of other_person) / (composite of real - composite of other_person),
             computed within each bootstrap replicate on the same contexts: 0 = reads like the person I talk
             to most, 1 = reads like my real replies to these very contexts
Intervals are BCa (stats.py) over contexts and, with several samples per context, over samples. Pairs are
compared on the contexts both have replies for. The recommendation takes the best variant of the pool
(blends, else every variant) and calls it separable only if, with the level Bonferroni-corrected for the
comparisons made, its paired difference from every other pool member, from other_person and from the
``retrieval`` variant (my real reply to the most similar past context: the "copy me" baseline) is above 0.
A preference-tuned variant (registry lineage ``tuned_from``) is also compared with its parent: the paired
composite difference on the same contexts with its 95% interval, and "beat" / "worse" / "not separable".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from persona_lab.evaluate.controls import ANCHOR_HIGH, ANCHOR_LOW, CONTROLS, build_controls
from persona_lab.evaluate.crossfit import ItemSet, split
from persona_lab.evaluate.metrics import METRICS
from persona_lab.evaluate.metrics.context import Encoder
from persona_lab.evaluate.profile import EvalInputError, Profile, split_lines
from persona_lab.evaluate.stats import ALPHA, Replicates, bca_interval, slots
from persona_lab.evaluate.weights import decisive_votes, fit_weights, weights_from_votes
from persona_lab.workspace.files import write_json_atomic
from persona_lab.workspace.paths import ReportFolder
from persona_lab.workspace.shapes import EvalItem

MIN_ITEMS = 10
MIN_FACET_ITEMS = 5


@dataclass
class ScoreResult:
    scores: dict[str, Any]
    replies: dict[str, dict[str, list[str]]]  # candidate -> item id -> samples
    items: list[EvalItem]
    notes: dict[str, str] = field(default_factory=dict)


def make_metrics(profile: Profile, options: dict[str, Any]) -> dict[str, Any]:
    options = {**options}
    options.setdefault("encoder", Encoder(options.get("embedding_model") or "use"))
    metrics = {}
    for name in METRICS:
        metric = METRICS.get(name)()
        metric.fit(profile, options)
        metrics[name] = metric
    return metrics


class Scoring:
    """Rows of every candidate under every metric, and the statistics computed from them."""

    def __init__(self, items: ItemSet, metrics: dict[str, Any], candidates: dict[str, list[list[str]]],
                 weights: dict[str, float], n_boot: int, seed: int) -> None:
        self.items, self.metrics = items, metrics
        self.names = list(metrics)
        self.score_names = [m for m in self.names if metrics[m].role == "score"]
        self.gate = next((m for m in self.names if metrics[m].role == "gate"), None)
        self.weights = weights
        for metric in metrics.values():
            metric.bind(items)
        self.rows: dict[str, dict[str, np.ndarray]] = {}
        self.present: dict[str, np.ndarray] = {}
        self.k: dict[str, int] = {}
        for name, replies in candidates.items():
            self._add(name, replies)
        self.replicates = Replicates.draw(items.n, n_boot, seed)
        self._memo: dict[tuple, dict[str, float]] = {}

    def _add(self, name: str, replies: list[list[str]]) -> None:
        k = max((len(r) for r in replies), default=0)
        if k == 0:
            return
        present = np.array([[j < len(r) for j in range(k)] for r in replies])
        rows: dict[str, np.ndarray] = {}
        for slot in range(k):
            index = np.flatnonzero(present[:, slot])
            texts = [replies[i][slot] for i in index]
            for metric_name, metric in self.metrics.items():
                values = metric.rows(texts, index)
                if metric_name not in rows:
                    rows[metric_name] = np.full((self.items.n, k, values.shape[1]), np.nan)
                rows[metric_name][index, slot] = values
        self.rows[name], self.present[name], self.k[name] = rows, present, k

    # ---------------------------------------------------------------------------------- statistics

    def values(self, name: str, picks: np.ndarray, slot: np.ndarray, which: list[str] | None = None) -> dict[str, float]:
        """Each metric's summary of ``name``'s rows at (picks, slot); memoised, because the anchors and
        fully answered candidates share the same contexts within a replicate."""
        key = (name, tuple(which or ()), hashlib.blake2b(picks.tobytes() + slot.tobytes(), digest_size=16).digest())
        if key not in self._memo:
            self._memo[key] = self._values(name, picks, slot, which)
        return self._memo[key]

    def _values(self, name: str, picks: np.ndarray, slot: np.ndarray, which: list[str] | None) -> dict[str, float]:
        out = {}
        for metric_name in which or self.names:
            metric = self.metrics[metric_name]
            if name == ANCHOR_HIGH and metric.self_referential:
                out[metric_name] = float("nan")
                continue
            out[metric_name] = metric.summarise(self.rows[name][metric_name][picks, slot])
        return out

    def composite(self, values: dict[str, float]) -> float:
        total = sum(self.weights.values())
        score = sum(w * values[m] for m, w in self.weights.items()) / total if total else float("nan")
        return score * values[self.gate] if self.gate else score

    def selections(self, name: str, mask: np.ndarray):
        """(picks, slot) per sample index for the point estimate: every present item of that slot."""
        for slot in range(self.k[name]):
            picks = np.flatnonzero(self.present[name][:, slot] & mask)
            yield picks, np.full(len(picks), slot)

    def _draw(self, name: str, r: int, mask: np.ndarray, other: str | None = None):
        items = self.replicates.items[r]
        slot = slots(self.replicates.draws[r], self.k[name])
        keep = self.present[name][items, slot] & mask[items]
        if other is not None:
            keep &= self.present[other][items, slots(self.replicates.draws[r], self.k[other])]
        return items[keep], slot[keep]

    def evaluations(self, name: str, mask: np.ndarray, which: list[str] | None = None,
                    anchors: tuple[str, ...] = ()) -> dict[str, Any]:
        """The metric values of ``name`` and of each anchor (on the same contexts) for the point estimate
        (one per sample index), each bootstrap replicate and each jackknife group: ``statistic`` turns
        them into any number derived from them."""
        anchors = tuple(a for a in anchors if a in self.rows and a != name)

        def evaluate(picks: np.ndarray, slot: np.ndarray) -> dict[str, dict[str, float]] | None:
            if len(picks) == 0:
                return None
            values = {name: self.values(name, picks, slot, which)}
            for anchor in anchors:
                values[anchor] = self.values(anchor, picks, np.zeros(len(picks), dtype=int), which)
            return values

        groups = self.replicates.jackknife_groups
        return {"point": [evaluate(p, s) for p, s in self.selections(name, mask)],
                "boot": [evaluate(*self._draw(name, r, mask)) for r in range(self.replicates.n_boot)],
                "jack": [[evaluate(p, s) for p, s in self.selections(name, mask & (groups != g))]
                         for g in np.unique(groups[mask])] if mask.sum() > 1 else []}

    @staticmethod
    def statistic(evaluations: dict[str, Any], fn) -> dict[str, Any]:
        """Point estimate, bootstrap replicates and jackknife of ``fn(values_by_candidate)``."""
        def apply(values) -> float:
            return float("nan") if values is None else float(fn(values))

        def mean(values: list) -> float:
            finite = [v for v in map(apply, values) if np.isfinite(v)]
            return float(np.mean(finite)) if finite else float("nan")

        return {"point": mean(evaluations["point"]), "boot": np.array([apply(v) for v in evaluations["boot"]]),
                "jack": np.array([mean(group) for group in evaluations["jack"]])}

    def paired(self, a: str, b: str, mask: np.ndarray) -> dict[str, Any]:
        """Composite of a minus composite of b, on the contexts both answered, paired within replicates."""
        which = self.score_names + ([self.gate] if self.gate else [])

        def difference(picks, slot_a, slot_b) -> float:
            if len(picks) == 0:
                return float("nan")
            return (self.composite(self.values(a, picks, slot_a, which))
                    - self.composite(self.values(b, picks, slot_b, which)))

        both = mask & self.present[a].any(axis=1) & self.present[b].any(axis=1)
        point = []
        for slot_a in range(self.k[a]):
            for slot_b in range(self.k[b]):
                picks = np.flatnonzero(both & self.present[a][:, slot_a] & self.present[b][:, slot_b])
                point.append(difference(picks, np.full(len(picks), slot_a), np.full(len(picks), slot_b)))
        boot = []
        for r in range(self.replicates.n_boot):
            items = self.replicates.items[r]
            sa, sb = slots(self.replicates.draws[r], self.k[a]), slots(self.replicates.draws[r], self.k[b])
            keep = both[items] & self.present[a][items, sa] & self.present[b][items, sb]
            boot.append(difference(items[keep], sa[keep], sb[keep]))
        groups = self.replicates.jackknife_groups
        jack = []
        for g in np.unique(groups[both]):
            keep = both & (groups != g) & self.present[a][:, 0] & self.present[b][:, 0]
            picks = np.flatnonzero(keep)
            jack.append(difference(picks, np.zeros(len(picks), dtype=int), np.zeros(len(picks), dtype=int)))
        return {"point": float(np.nanmean(point)), "boot": np.array(boot), "jack": np.array(jack)}


def interval(stat: dict[str, Any], alpha: float = ALPHA) -> list[float]:
    return bca_interval(stat["point"], stat["boot"], stat["jack"], alpha)


# ------------------------------------------------------------------------------------------ the run


@dataclass
class Fitted:
    """What scoring needs from the profile alone: the metrics fitted on my training replies and the composite's
    weights. Fitting takes seconds, so a caller that scores one profile again and again (the blend search,
    once a round) fits once; every metric's ``bind`` sets its per-items state anew on each scoring."""

    metrics: dict[str, Any]
    weights: dict[str, float]
    basis: dict[str, Any]
    dev: Any = None  # the dev-slice fit, when the weights were fitted (the arena's votes may refit them)


def fit(profile: Profile, *, weights: dict[str, float] | None = None, options: dict[str, Any] | None = None,
        n_boot: int = 200, seed: int = 0, progress=None) -> Fitted:
    say = progress or (lambda message: None)
    say("fitting the metrics on the training replies")
    metrics = make_metrics(profile, options or {})
    if weights:
        return Fitted(metrics, {m: float(w) for m, w in weights.items() if w > 0},
                      {"method": "config", "text": "set in the lab config (eval.weights)"})
    say(f"fitting the composite's weights on {len(profile.dev)} dev items from the training file")
    dev = fit_weights(profile, metrics, n_boot=min(n_boot, 200), seed=seed)
    return Fitted(metrics, dev.weights, dev.basis, dev)


def score(profile: Profile, items: list[EvalItem], candidates: dict[str, dict[str, list[str] | str]], *,
          weights: dict[str, float] | None = None, options: dict[str, Any] | None = None, n_boot: int = 200,
          seed: int = 0, kinds: dict[str, str] | None = None, progress=None,
          votes: list[dict[str, Any]] | None = None, min_votes: int = 30,
          parents: dict[str, str] | None = None, fitted: Fitted | None = None) -> ScoreResult:
    """Score ``candidates`` (name -> item id -> reply or list of sampled replies) and the controls. With
    ``votes`` (the arena's, each with model_a, model_b, winner, rater_id) and at least ``min_votes`` decisive
    ones between scored variants, the weights the config leaves open are fitted to them (weights.py).
    ``parents``: tuned variant -> the variant it was tuned from (the registry's ``tuned_from``). ``fitted``:
    what ``fit`` made of this profile already (then ``weights`` and ``options`` are not used again)."""
    say = progress or (lambda message: None)
    if len(items) < MIN_ITEMS:
        raise EvalInputError(f"{len(items)} evaluation items: at least {MIN_ITEMS} are needed for intervals")
    clash = sorted(set(candidates) & set(CONTROLS))
    if clash:
        raise EvalInputError(f"candidate name(s) {', '.join(clash)} are taken by the controls; rename them")
    fitted = fitted or fit(profile, weights=weights, options=options, n_boot=n_boot, seed=seed, progress=say)
    metrics, weights, basis, dev = fitted.metrics, fitted.weights, fitted.basis, fitted.dev
    itemset = split(items)
    controls, notes = build_controls(itemset, profile, seed)
    all_candidates = {name: [[] if reply is None else [reply] for reply in replies]
                      for name, replies in controls.items()}
    for name, by_id in candidates.items():
        all_candidates[name] = [_samples(by_id.get(item.id)) for item in items]
    say(f"scoring {len(candidates)} candidates and {len(controls)} controls on {len(items)} contexts")
    scoring = Scoring(itemset, metrics, all_candidates, weights, n_boot, seed)
    if dev is not None and votes:
        basis = _fit_to_votes(scoring, dev, list(candidates), votes, min_votes, say)
    scores = _assemble(scoring, profile, list(candidates), controls, notes, kinds or {}, basis, say)
    scores["tuned_vs_parent"] = tuned_vs_parent(scoring, parents or {})
    replies = {name: {item.id: samples for item, samples in zip(items, all_candidates[name]) if samples}
               for name in all_candidates}
    return ScoreResult(scores, replies, items, notes)


def _fit_to_votes(scoring: Scoring, dev, variants: list[str], votes: list[dict[str, Any]], min_votes: int,
                  say) -> dict[str, Any]:
    """Refit ``scoring``'s weights to the arena's decisive votes once there are ``min_votes``; the basis."""
    decisive = decisive_votes(votes, {v for v in variants if v in scoring.rows})
    if len(decisive) < min_votes:
        return {**dev.basis, "text": dev.basis["text"] + f"; {len(decisive)} decisive arena votes between these "
                f"variants, {min_votes} needed (arena.min_votes) before the votes choose the weights"}
    say(f"fitting the composite's weights to {len(decisive)} arena votes")
    scoring.weights, basis = weights_from_votes(dev, point_values(scoring, variants, dev.names), decisive)
    return basis


def point_values(scoring: Scoring, names: list[str], metrics: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per candidate: (samples, ``metrics``) values and (samples,) gate of the point estimate."""
    everything = np.ones(scoring.items.n, dtype=bool)
    which = scoring.score_names + ([scoring.gate] if scoring.gate else [])
    out = {}
    for name in names:
        if name not in scoring.rows:
            continue
        per_slot = [scoring.values(name, picks, slot, which) for picks, slot in scoring.selections(name, everything)
                    if len(picks)]
        out[name] = (np.array([[v[m] for m in metrics] for v in per_slot]),
                     np.array([v[scoring.gate] if scoring.gate else 1.0 for v in per_slot]))
    return out


def _samples(value: list[str] | str | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _assemble(scoring: Scoring, profile: Profile, variants: list[str], controls: dict[str, list[str]],
              notes: dict[str, str], kinds: dict[str, str], basis: dict[str, Any], say) -> dict[str, Any]:
    items = scoring.items
    everything = np.ones(items.n, dtype=bool)
    low = ANCHOR_LOW if ANCHOR_LOW in scoring.rows else "generic"
    anchors_ok = ANCHOR_HIGH in scoring.rows and low in scoring.rows
    entries: dict[str, Any] = {}
    for name in list(controls) + variants:
        if name not in scoring.rows:
            entries[name] = {"n": 0, "missing": items.n, "error": "no reply matches an evaluation id",
                             "kind": kinds.get(name, "variant")}
            continue
        entries[name] = _entry(scoring, name, everything, low if anchors_ok else None)
        entries[name]["kind"] = "control" if name in controls else kinds.get(name, "variant")
        if name in notes:
            entries[name]["note"] = notes[name]
    ranking = sorted((v for v in variants if "fidelity" in entries[v]),
                     key=lambda v: (-_finite(entries[v]["fidelity"]), v))
    say("per-audience results and the recommendation")
    facets = _facets(scoring, variants, low) if anchors_ok else {}
    authorship = scoring.metrics["authorship"]
    heldout_others = [line for item in items.items for m in item.context if m.get("role") == "user"
                      for line in split_lines(str(m.get("content", "")))]
    return {
        "n_items": items.n, "n_bootstrap": scoring.replicates.n_boot, "alpha": ALPHA,
        "weights": scoring.weights, "weights_basis": basis, "anchors": {"low": low, "high": ANCHOR_HIGH},
        "metrics": {m: {"role": scoring.metrics[m].role, "family": scoring.metrics[m].family,
                        "description": scoring.metrics[m].description} for m in scoring.names},
        "variants": entries, "ranking": ranking, "controls": list(controls),
        "recommendation": recommend(scoring, ranking, entries, low) if anchors_ok else
        {"winner": None, "separable": False, "reason": "the anchors (real, other_person) could not be built"},
        "facets": facets,
        "folds": {"sizes": [int((items.fold == f).sum()) for f in (0, 1)],
                  "conversations": len(np.unique(items.conversation)),
                  "reference_sets": items.group_names},
        "catchphrases": profile.catchphrases[:15], "names_masked": len(profile.names),
        "style_features": {"kept": scoring.metrics["style"].feature_names,
                           "dropped": scoring.metrics["style"].dropped},
        "authorship_auc": authorship.heldout_auc(items.replies, list(dict.fromkeys(heldout_others))),
        "language": profile.language,
    }


def _finite(value: float) -> float:
    return value if value is not None and np.isfinite(value) else -np.inf


def _entry(scoring: Scoring, name: str, mask: np.ndarray, low: str | None) -> dict[str, Any]:
    present = scoring.present[name]
    entry: dict[str, Any] = {"n": int(present.any(axis=1).sum()), "missing": int((~present.any(axis=1)).sum()),
                             "samples_per_context": scoring.k[name], "metrics": {}, "metrics_ci": {}}
    anchors = (ANCHOR_HIGH, low) if low is not None else ()
    evaluations = scoring.evaluations(name, mask, None, anchors)
    for metric in scoring.names:
        if name == ANCHOR_HIGH and scoring.metrics[metric].self_referential:
            entry["metrics"][metric] = None
            entry["metrics_ci"][metric] = None
            continue
        stat = scoring.statistic(evaluations, lambda v, m=metric: v[name][m])
        entry["metrics"][metric] = stat["point"]
        entry["metrics_ci"][metric] = interval(stat)
    stat = scoring.statistic(evaluations, lambda v: scoring.composite(v[name]))
    entry["composite"], entry["composite_ci"] = stat["point"], interval(stat)
    if low is not None:
        stat = scoring.statistic(evaluations, lambda v: _fidelity(scoring, v, name, low))
        entry["fidelity"], entry["fidelity_ci"] = stat["point"], interval(stat)
    entry["breakdown"] = {}
    for metric in scoring.names:
        picks = np.flatnonzero(present[:, 0] & mask)
        if name == ANCHOR_HIGH and scoring.metrics[metric].self_referential:
            continue
        entry["breakdown"][metric] = scoring.metrics[metric].breakdown(scoring.rows[name][metric][picks, 0])
    return entry


def _fidelity(scoring: Scoring, values: dict[str, dict[str, float]], name: str, low: str) -> float:
    mine = scoring.composite(values[name])
    high = scoring.composite(values[ANCHOR_HIGH]) if name != ANCHOR_HIGH else mine
    floor = scoring.composite(values[low]) if name != low else mine
    spread = high - floor
    return (mine - floor) / spread if spread > 1e-9 else float("nan")


def _facets(scoring: Scoring, variants: list[str], low: str) -> dict[str, Any]:
    which = scoring.score_names + ([scoring.gate] if scoring.gate else [])
    facets = np.array(scoring.items.facets)
    out: dict[str, Any] = {}
    names = [c for c in (ANCHOR_HIGH, "me_elsewhere", low) if c in scoring.rows] + \
            [v for v in variants if v in scoring.rows]
    for facet in sorted(set(facets)):
        mask = facets == facet
        row: dict[str, Any] = {"n": int(mask.sum())}
        if mask.sum() < MIN_FACET_ITEMS:
            row["skipped"] = f"fewer than {MIN_FACET_ITEMS} contexts"
            out[facet] = row
            continue
        gap = scoring.paired(ANCHOR_HIGH, low, mask)
        row["anchor_gap"], row["anchor_gap_ci"] = gap["point"], interval(gap)
        if not row["anchor_gap_ci"][0] > 0:
            # real and other_person are not told apart on these contexts: a ruler from one to the other
            # has no length, and fidelity on it would be noise divided by noise
            row["skipped"] = (f"my real replies are not separated from {low} on these {row['n']} contexts "
                              f"(composite gap {gap['point']:.2f}, 95% CI {row['anchor_gap_ci'][0]:.2f} to "
                              f"{row['anchor_gap_ci'][1]:.2f})")
            out[facet] = row
            continue
        row["fidelity"] = {}
        for name in names:
            evaluations = scoring.evaluations(name, mask, which, (ANCHOR_HIGH, low))
            stat = scoring.statistic(evaluations, lambda v, n=name: _fidelity(scoring, v, n, low))
            row["fidelity"][name] = {"value": stat["point"], "ci": interval(stat),
                                     "n": int((scoring.present[name].any(axis=1) & mask).sum())}
        out[facet] = row
    return out


def recommend(scoring: Scoring, ranking: list[str], entries: dict[str, Any], low: str) -> dict[str, Any]:
    """The best variant of the pool, and whether it is separable from each other pool member and from the
    low anchor at a Bonferroni-corrected level."""
    blends = [v for v in ranking if entries[v].get("kind") == "blend"]
    pool = blends or ranking
    if not pool:
        return {"winner": None, "separable": False, "reason": "no variant could be scored"}
    winner = pool[0]
    # a recommended blend must also beat copying me: the retrieval baseline, where the lab has one
    baselines = [v for v in ranking if entries[v].get("kind") == "retrieval" and v not in pool]
    rivals = pool[1:] + [low] + baselines
    alpha = ALPHA / max(len(rivals), 1)
    everything = np.ones(scoring.items.n, dtype=bool)
    comparisons = {}
    for rival in rivals:
        stat = scoring.paired(winner, rival, everything)
        low_bound, high_bound = interval(stat, alpha)
        comparisons[rival] = {"difference": stat["point"], "ci": [low_bound, high_bound],
                              "share_ahead": float(np.nanmean(stat["boot"] > 0)), "separated": bool(low_bound > 0)}
    tied = [r for r in pool[1:] if not comparisons[r]["separated"]]
    above_low = comparisons[low]["separated"]
    copied = [b for b in baselines if not comparisons[b]["separated"]]
    separable = above_low and not tied and not copied
    level = f"{1 - alpha:.1%} paired intervals (95% Bonferroni-corrected for {len(rivals)} comparisons)"
    if separable:
        reason = (f"{winner} has the highest fidelity of the {'blends' if blends else 'variants'}, and its paired "
                  f"difference from each of them, from {low}{''.join(', from ' + b for b in baselines)} is above 0 "
                  f"({level})")
    elif not above_low:
        reason = (f"no variant separable: the best, {winner}, is not separated from {low} — it reads no more like "
                  f"me than the person I talk to most ({level})")
    elif copied:
        reason = (f"no variant separable: the best, {winner}, is not separated from {', '.join(copied)} — my real "
                  f"reply to the most similar past context does as well ({level})")
    else:
        reason = (f"no variant separable: {winner} leads, but is not separated from {', '.join(tied)} ({level})")
    return {"winner": winner if separable else None, "leader": winner, "separable": separable, "pool": pool,
            "tied_with_leader": tied, "not_above_baseline": copied, "comparisons": comparisons, "alpha_per_comparison": alpha, "reason": reason}


def tuned_vs_parent(scoring: Scoring, parents: dict[str, str]) -> dict[str, Any]:
    """Each scored tuned variant against its scored parent: the paired composite difference (tuned minus
    parent, the same statistic as the recommendation's comparisons) with its 95% BCa interval. One planned
    comparison per tuned variant, so no Bonferroni correction; "beat" needs the whole interval above 0."""
    everything = np.ones(scoring.items.n, dtype=bool)
    out = {}
    for tuned, parent in sorted(parents.items()):
        if tuned not in scoring.rows or parent not in scoring.rows:
            continue
        stat = scoring.paired(tuned, parent, everything)
        low_bound, high_bound = interval(stat)
        verdict = "beat its parent" if low_bound > 0 else "worse than its parent" if high_bound < 0 else \
            "not separable from its parent"
        out[tuned] = {"parent": parent, "difference": stat["point"], "ci": [low_bound, high_bound],
                      "share_ahead": float(np.nanmean(stat["boot"] > 0)), "verdict": verdict,
                      "n": int((scoring.present[tuned].any(axis=1) & scoring.present[parent].any(axis=1)).sum())}
    return out


def write_scores(result: ScoreResult, out_dir: Path) -> Path:
    path = ReportFolder(out_dir).scores
    write_json_atomic(path, _jsonable(result.scores))
    return path


def _jsonable(value: Any) -> Any:
    """NaN is not JSON: write it as null. Numpy numbers as Python numbers."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
