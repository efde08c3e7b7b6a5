"""The leaderboard as Markdown.

Boards: one per rater group (the person, friends, strangers), because they answer different questions ("does
it sound like me to me / to people who know me / to anyone") and a crowd of strangers must not drown out
the person. Each board ranks by **style-controlled** Bradley-Terry (reply-length difference as a covariate,
``persona_lab.ratings.bootstrap_style_controlled``): on persona clones length is a strong cue, and a board
that length can game rewards the verbose variant. The plain rating stands beside it, with the length
coefficient, so a reader sees how much length moved the order. Then: position bias (left/right), rater
consistency with outlier flags, the win-rate matrix, fool rates from "Real or clone?", mean "sounds like
me" ratings, and persona-eval's fidelity. Only blind votes exist to count (see ``ArenaStore.rating_votes``);
votes beyond a rater's daily cap were refused when cast.
"""

from __future__ import annotations

from typing import Any

from persona_lab.ratings import (
    bootstrap_style_controlled,
    fool_rates,
    position_bias,
    rater_consistency,
    win_rate_matrix,
)

BOARDS = (("owner", "The person's own votes"), ("friends", "Friends' votes"), ("strangers", "Strangers' votes"))
ROUNDS = 200


def _ci(row: dict[str, Any]) -> str:
    return f"{row['rating']:.0f} ({row['ci_low']:.0f}–{row['ci_high']:.0f})"


def ratings_table(votes: list[dict], composite: dict[str, Any] | None, title: str) -> list[str]:
    if not votes:
        return [f"### {title}", "", "No votes yet.", ""]
    fit = bootstrap_style_controlled(votes, rounds=ROUNDS, seed=0)
    low, high = fit["length_ci"]
    lines = [f"### {title} ({len(votes)} votes)", "",
             "| # | variant | rating at equal length (95% CI) | plain rating (95% CI) | votes | persona-eval fidelity |",
             "|---:|---|---|---|---:|---:|"]
    for rank, (name, row) in enumerate(fit["ratings"].items(), 1):
        auto = (composite or {}).get(name, {}).get("fidelity")
        lines.append(f"| {rank} | {name} | {_ci(row)} | {_ci(fit['plain'][name])} | {row['votes']} | "
                     f"{'–' if auto is None else f'{auto:+.2f}'} |")
    lines += ["", (f"Length effect: {fit['length_coef']:+.2f} log-odds per sd of the length difference "
                  f"(95% CI {low:+.2f} to {high:+.2f}; positive = the longer reply tends to win)."), ""]
    return lines


def position_section(votes: list[dict]) -> list[str]:
    bias = position_bias(votes)
    lines = ["### Position bias", ""]
    if bias is None:
        return lines + ["No decisive votes yet.", ""]
    verdict = ("raters favour a side" if not bias["ci_low"] <= 0.5 <= bias["ci_high"]
               else "no side preference detected")
    return lines + [(f"The left reply (A) won {bias['left_win_rate']:.0%} of {bias['decisive']} decisive votes "
                    f"(95% CI {bias['ci_low']:.0%}–{bias['ci_high']:.0%}; {bias['ties']} ties): {verdict}. "
                    "Sides are drawn at random, so a side preference adds noise, not a bias between variants."), ""]


def consistency_section(votes: list[dict]) -> list[str]:
    table = rater_consistency(votes)
    flagged = {rater: row for rater, row in table.items() if row["flags"]}
    lines = ["### Rater consistency", "",
             (f"{len(table)} raters; agreement = share of a rater's decisive votes that the others' ratings "
             f"predict. {len(flagged)} flagged (flags inform, no vote is dropped).")]
    if flagged:
        lines += ["", "| rater | votes | agreement (95% CI) | left | ties | flags |", "|---|---:|---|---:|---:|---|"]
        for rater, row in flagged.items():
            agreement = ("–" if row["agreement"] is None else
                         f"{row['agreement']:.0%} ({row['ci_low']:.0%}–{row['ci_high']:.0%})")
            left = "–" if row["left_rate"] is None else f"{row['left_rate']:.0%}"
            lines.append(f"| {rater[:8]} | {row['votes']} | {agreement} | {left} | {row['tie_rate']:.0%} | "
                         f"{', '.join(row['flags'])} |")
    return lines + [""]


def leaderboard_markdown(store, scores: dict[str, Any] | None) -> str:
    composite = (scores or {}).get("variants")
    all_votes = store.rating_votes(with_raters=True)
    lines = ["## Leaderboard", "",
             ("Bradley-Terry ratings on the Elo scale (ties and 'neither' count as half wins), ranked at equal reply "
             "length (style control), 95% bootstrap CIs."), ""]
    for group, title in BOARDS:
        lines += ratings_table([v for v in all_votes if v["group"] == group], composite, title)
    if all_votes:
        lines += position_section(all_votes)
        lines += consistency_section(all_votes)
        matrix = win_rate_matrix(all_votes)
        names = sorted(matrix)
        lines += ["### Win rate (row beats column)", "", "| | " + " | ".join(names) + " |",
                  "|---|" + "---:|" * len(names)]
        for a in names:
            lines.append(f"| {a} | " + " | ".join("–" if a == b or b not in matrix[a] else f"{matrix[a][b]:.0%}"
                                                  for b in names) + " |")
        lines.append("")
    guesses = [{"variant": g["variant"], "fooled": bool(g["fooled"])} for g in store.guesses()]
    lines += ["### Real or clone? (50% = indistinguishable)", ""]
    if guesses:
        lines += ["| variant | fool rate (95% CI) | guesses |", "|---|---|---:|"]
        for name, row in sorted(fool_rates(guesses).items(), key=lambda kv: -kv[1]["fool_rate"]):
            lines.append(f"| {name} | {row['fool_rate']:.0%} ({row['ci_low']:.0%}–{row['ci_high']:.0%}) | {row['n']} |")
    else:
        lines.append("No guesses yet.")
    ratings = store.ratings()
    lines += ["", "### Sounds like me (1-5)", ""]
    if ratings:
        by_variant: dict[str, list[int]] = {}
        for r in ratings:
            by_variant.setdefault(r["variant"], []).append(int(r["score"]))
        lines += ["| variant | mean | n |", "|---|---:|---:|"]
        for name, values in sorted(by_variant.items(), key=lambda kv: -sum(kv[1]) / len(kv[1])):
            lines.append(f"| {name} | {sum(values) / len(values):.2f} | {len(values)} |")
    else:
        lines.append("No ratings yet.")
    return "\n".join(lines) + "\n"
