"""Agreement between the automated metrics and the arena's human votes.

Per metric (and the anchored fidelity): Kendall τ between its ranking of the variants and the Bradley-Terry
ranking from votes — the style-controlled one (reply length as a covariate, as on the arena's leaderboard),
so a metric is not credited for agreeing with raters who simply liked longer replies — and
the per-battle agreement rate (the share of decisive votes whose winner the metric also scores higher;
ties and "neither" are left out).
"""

from __future__ import annotations

import math
from typing import Any

from persona_lab.ratings import DECISIVE, LENGTH_KEYS, bradley_terry, style_controlled_bradley_terry
from persona_lab.workspace.votes import ArenaStore


def arena_votes(config, with_raters: bool = False) -> list[dict[str, Any]]:
    """The arena's votes as model_a, model_b, winner (and rater_id ``with_raters``); none without an arena."""
    store = ArenaStore.for_lab(config, must_exist=True)
    if store is None:
        return []
    with store:
        return store.rating_votes(with_raters=with_raters)


def arena_guesses(config) -> list[dict[str, Any]]:
    """The arena's "Real or clone?" guesses (item_id, variant, fooled, …); none without an arena."""
    store = ArenaStore.for_lab(config, must_exist=True)
    return store.guesses() if store is not None else []


def agreement(scores: dict[str, Any], votes: list[dict[str, Any]]) -> dict[str, Any]:
    from scipy.stats import kendalltau

    if not votes:
        return {}
    if all(key in v for v in votes for key in LENGTH_KEYS):
        ratings, length_coef = style_controlled_bradley_terry(votes)
        method = "style-controlled"
    else:  # votes from outside the arena store, without reply lengths
        ratings, length_coef, method = bradley_terry(votes), None, "plain"
    variants = [v for v in scores["ranking"] if v in ratings]
    if not scores["ranking"]:
        return {}
    metrics = ["fidelity", *scores["variants"][scores["ranking"][0]]["metrics"]]
    out: dict[str, Any] = {"votes": len(votes), "bt_ratings": {v: ratings[v] for v in variants},
                           "bt_method": method, "length_coef": length_coef, "metrics": {}}
    decisive = [v for v in votes if v["winner"] in DECISIVE
                and v["model_a"] in scores["ranking"] and v["model_b"] in scores["ranking"]]
    for metric in metrics:
        value = {v: (scores["variants"][v].get("fidelity") if metric == "fidelity" else
                     scores["variants"][v]["metrics"][metric]) for v in scores["ranking"]}
        if any(x is None for x in value.values()):
            continue
        tau = kendalltau([ratings[v] for v in variants], [value[v] for v in variants]).statistic if len(variants) > 2 else None
        agree = [(value[v["model_a"]] > value[v["model_b"]]) == (v["winner"] == "model_a") for v in decisive
                 if value[v["model_a"]] != value[v["model_b"]]]
        out["metrics"][metric] = {"kendall_tau": None if tau is None or math.isnan(tau) else float(tau),
                                  "battle_agreement": sum(agree) / len(agree) if agree else None,
                                  "battles": len(agree)}
    return out


def agreement_section(result: dict[str, Any]) -> list[str]:
    if not result:
        return ["", "## Agreement with the arena", "", "No arena votes yet."]
    method = result.get("bt_method", "plain")
    note = (f"Bradley-Terry ratings at equal reply length (style control; length effect "
            f"{result['length_coef']:+.2f} log-odds per sd of the length difference)."
            if method == "style-controlled" and result.get("length_coef") is not None else
            "Plain Bradley-Terry ratings (these votes carry no reply lengths).")
    lines = ["", f"## Agreement with the arena ({result['votes']} votes)", "", note, "",
             "| metric | Kendall τ with Bradley-Terry | per-battle agreement | decisive battles |", "|---|---:|---:|---:|"]
    for name, row in result["metrics"].items():
        tau = "–" if row["kendall_tau"] is None else f"{row['kendall_tau']:.2f}"
        rate = "–" if row["battle_agreement"] is None else f"{row['battle_agreement']:.0%}"
        lines.append(f"| {name} | {tau} | {rate} | {row['battles']} |")
    return lines
