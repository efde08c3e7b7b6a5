"""Scoring: candidate replies against my real held-out replies, with bootstrap confidence intervals.

For each variant, every metric turns its replies into per-item rows once; then B bootstrap replicates
resample the evaluation items (the same resample for every metric of a variant, and the same item indices
across variants on their common items) and re-summarise. The composite is a weighted mean of the metrics
clipped to [0, 1] (``authorship`` is a ratio to my own replies and counts as at most 1: "as much me as
me"); its CI comes from the same replicates. Whether the winner is separated from the runner-up is the
share of paired replicates in which it stays ahead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from persona_lab.evaluate.metrics import DEFAULT_WEIGHTS, METRICS, ScoringContext
from persona_lab.evaluate.profile import EvalItem, Profile


@dataclass
class ScoreResult:
    scores: dict[str, Any]
    rows: dict[str, dict[str, np.ndarray]]  # variant -> metric -> rows (for the report's plots)
    real_rows: dict[str, np.ndarray]
    replies: dict[str, dict[str, str]]
    items: list[EvalItem]


def score(profile: Profile, items: list[EvalItem], candidates: dict[str, dict[str, str]], *,
          weights: dict[str, float] | None = None, options: dict[str, Any] | None = None,
          n_boot: int = 200, seed: int = 0, kinds: dict[str, str] | None = None) -> ScoreResult:
    weights = {k: v for k, v in (weights or DEFAULT_WEIGHTS).items() if v > 0}
    refs = [item.reply for item in items]
    ctx = ScoringContext(profile, refs, [item.context for item in items], options or {})
    metrics = {}
    for name in weights:
        metric = METRICS.get(name)()
        metric.prepare(ctx)
        metrics[name] = metric
    real_rows = {name: metric.rows(refs, refs) for name, metric in metrics.items()}
    rng = np.random.default_rng(seed)
    n = len(items)
    replicates = rng.integers(0, n, size=(n_boot, n))  # shared: paired comparisons across variants
    variants: dict[str, Any] = {}
    all_rows: dict[str, dict[str, np.ndarray]] = {}
    boot_composites: dict[str, np.ndarray] = {}
    for variant, replies_by_id in candidates.items():
        present = np.array([item.id in replies_by_id for item in items])
        index = np.flatnonzero(present)
        if len(index) == 0:
            variants[variant] = {"n": 0, "missing": len(items), "error": "no reply matches an evaluation id"}
            continue
        replies = [replies_by_id[items[i].id] for i in index]
        rows = {name: metric.rows(replies, [refs[i] for i in index]) for name, metric in metrics.items()}
        real = {name: r[index] for name, r in real_rows.items()}
        values = {name: metric.summarise(rows[name], real[name]) for name, metric in metrics.items()}
        position = {item_index: k for k, item_index in enumerate(index)}  # item -> row of this variant
        boot = {name: [] for name in metrics}
        for replicate in replicates:
            picks = np.array([position[i] for i in replicate if i in position]) if len(index) < n else replicate
            if len(picks) == 0:
                continue
            for name, metric in metrics.items():
                boot[name].append(metric.summarise(rows[name][picks], real[name][picks]))
        boot_arrays = {name: np.array(v) for name, v in boot.items()}
        composite_boot = _composite(boot_arrays, weights)
        boot_composites[variant] = composite_boot
        variants[variant] = {
            "composite": _composite({k: np.array([v]) for k, v in values.items()}, weights)[0],
            "composite_ci": _ci(composite_boot),
            "metrics": values,
            "metrics_ci": {name: _ci(b) for name, b in boot_arrays.items()},
            "breakdown": {name: metric.breakdown(rows[name], real[name]) for name, metric in metrics.items()},
            "n": len(index),
            "missing": int(n - len(index)),  # evaluation items this variant has no reply for
        }
        if kinds and variant in kinds:
            variants[variant]["kind"] = kinds[variant]
        all_rows[variant] = rows
    ranking = sorted((v for v in variants if "composite" in variants[v]),
                     key=lambda v: variants[v]["composite"], reverse=True)
    scores = {
        "variants": variants, "ranking": ranking, "weights": weights, "n_items": n, "n_bootstrap": n_boot,
        "catchphrases": profile.catchphrases[:15],
        "authorship_auc": getattr(metrics.get("authorship"), "auc", None),
        "separation": _separation(ranking, boot_composites),
        "disagreements": _disagreements(variants, ranking, list(metrics)),
    }
    return ScoreResult(scores, all_rows, real_rows, candidates, items)


def _composite(values: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    total = sum(weights[name] for name in values)
    return sum(weights[name] * np.clip(v, 0.0, 1.0) for name, v in values.items()) / total


def _ci(values: np.ndarray) -> list[float]:
    if len(values) == 0:
        return [float("nan"), float("nan")]
    return [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))]


def _separation(ranking: list[str], boot: dict[str, np.ndarray]) -> dict[str, Any] | None:
    """Share of bootstrap replicates in which the winner beats the runner-up (paired on the same items)."""
    if len(ranking) < 2:
        return None
    first, second = ranking[0], ranking[1]
    a, b = boot[first], boot[second]
    k = min(len(a), len(b))
    share = float(np.mean(a[:k] > b[:k])) if k else float("nan")
    return {"winner": first, "runner_up": second, "winner_ahead_share": share, "separated": share >= 0.95}


def _disagreements(variants: dict[str, Any], ranking: list[str], metrics: list[str]) -> dict[str, Any]:
    """Kendall tau between each metric's ranking of the variants and the composite's."""
    from scipy.stats import kendalltau

    out = {}
    if len(ranking) < 3:
        return out
    composite = [variants[v]["composite"] for v in ranking]
    for name in metrics:
        values = [variants[v]["metrics"][name] for v in ranking]
        tau = kendalltau(composite, values).statistic
        best = max(ranking, key=lambda v: variants[v]["metrics"][name])
        out[name] = {"kendall_tau_vs_composite": None if np.isnan(tau) else float(tau), "best": best}
    return out


def write_scores(result: ScoreResult, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "scores.json"
    path.write_text(json.dumps(result.scores, ensure_ascii=False, indent=1), "utf-8")
    return path
