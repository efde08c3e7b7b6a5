"""The leaderboard as Markdown: Bradley-Terry ratings (Elo scale, ties as half wins) with 95% bootstrap CIs
and vote counts, everyone's votes and the person's own shown apart, the win-rate matrix, fool rates from
"Real or clone?", mean "sounds like me" ratings, and persona-eval's fidelity side by side."""

from __future__ import annotations

from typing import Any

from persona_lab.ratings import bootstrap_ratings, fool_rates, win_rate_matrix


def ratings_table(votes: list[dict], composite: dict[str, Any] | None, title: str) -> list[str]:
    if not votes:
        return [f"### {title}", "", "No votes yet.", ""]
    table = bootstrap_ratings(votes, rounds=200, seed=0)
    lines = [f"### {title} ({len(votes)} votes)", "",
             "| # | variant | rating (95% CI) | votes | persona-eval fidelity |", "|---:|---|---|---:|---:|"]
    order = sorted(table, key=lambda v: table[v]["rating"], reverse=True)
    for rank, name in enumerate(order, 1):
        row = table[name]
        auto = (composite or {}).get(name, {}).get("fidelity")
        lines.append(f"| {rank} | {name} | {row['rating']:.0f} ({row['ci_low']:.0f}–{row['ci_high']:.0f}) | "
                     f"{row['votes']} | {'–' if auto is None else f'{auto:+.2f}'} |")
    return lines + [""]


def leaderboard_markdown(store, scores: dict[str, Any] | None) -> str:
    composite = (scores or {}).get("variants")
    everyone = store.rating_votes(include_person=False)
    person = store.rating_votes(include_person=True)
    lines = ["## Leaderboard", "",
             "Bradley-Terry ratings on the Elo scale (ties and 'neither' count as half wins), 95% bootstrap CIs.", ""]
    lines += ratings_table(everyone, composite, "Friends' votes")
    lines += ratings_table(person, composite, "The person's own votes")
    all_votes = everyone + person
    if all_votes:
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
