"""The report: report.md, a self-contained report.html (plots inlined) and PNG plots, from scores.json and
the replies. Everything shown is in scores.json, so `persona-eval report DIR` re-renders it exactly.

Controls are shown beside the variants (grey rows in HTML, "(control)" in Markdown): a variant's number
means something only next to what my real replies, another person and a constant reply get.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from persona_lab.config import COMPOSITE_METRICS
from persona_lab.evaluate.human import agreement_section
from persona_lab.evaluate.probes import privacy_section
from persona_lab.evaluate.profile import EvalInputError
from persona_lab.evaluate.score import ScoreResult
from persona_lab.privacy import Scrubber
from persona_lab.workspace.files import read_json, write_json_atomic
from persona_lab.workspace.paths import ReportFolder
from persona_lab.workspace.shapes import EvalItem

SCORE_COLUMNS = COMPOSITE_METRICS
GREY, BLUE = "#9A9A9A", "#4C72B0"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    for family in ("Noto Sans CJK SC", "WenQuanYi Zen Hei", "SimHei"):  # CJK labels, where a font exists
        if any(family in f.name for f in font_manager.fontManager.ttflist):
            plt.rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
            break
    return plt


def _rows(scores: dict[str, Any]) -> list[str]:
    """Variants by fidelity, then the controls in their fixed order."""
    return list(scores["ranking"]) + [c for c in scores.get("controls", []) if "composite" in scores["variants"][c]]


def plot_bars(scores: dict[str, Any], out: Path) -> Path:
    plt = _plt()
    names = _rows(scores)
    panels = ["fidelity", *SCORE_COLUMNS, "failures"]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.0 * len(panels), 0.32 * len(names) + 1.6), dpi=90,
                             sharey=True)
    for ax, panel in zip(axes, panels):
        values, lows, highs, colours = [], [], [], []
        for name in names:
            entry = scores["variants"][name]
            value = entry.get("fidelity") if panel == "fidelity" else entry["metrics"].get(panel)
            ci = entry.get("fidelity_ci") if panel == "fidelity" else entry["metrics_ci"].get(panel)
            value = np.nan if value is None else value
            lo, hi = ci if ci and None not in ci else (value, value)
            values.append(value)
            lows.append(max(value - lo, 0) if np.isfinite(value) else 0)
            highs.append(max(hi - value, 0) if np.isfinite(value) else 0)
            colours.append(GREY if entry.get("kind") == "control" else BLUE)
        if panel == "fidelity":  # a constant reply can be far below 0: keep the variants readable
            low_limit = min([-0.5] + [v - lo for v, lo in zip(values, lows) if np.isfinite(v) and v > -2])
            ax.set_xlim(low_limit - 0.1, 1.15)
            ax.axvline(0, color="black", lw=0.6)
            ax.axvline(1, color="black", lw=0.6, ls="--")
        ax.barh(names[::-1], values[::-1], xerr=[lows[::-1], highs[::-1]], color=colours[::-1], capsize=2)
        ax.set_title(panel, fontsize=10)
        ax.tick_params(labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("Variants (blue) against controls (grey); whiskers: 95% BCa intervals. Fidelity: 0 = another "
                 "person, 1 = my real replies", fontsize=9)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def plot_lengths(result: ScoreResult, out: Path) -> Path:
    plt = _plt()
    real = np.array([len(item.reply) for item in result.items])
    ranking = result.scores["ranking"]
    cols = 3
    rows = max(1, math.ceil(len(ranking) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.4 * rows), dpi=90, squeeze=False, sharex=True)
    upper = max(40, int(np.percentile(real, 95) * 3))
    bins = np.linspace(0, upper, 25)
    for ax, variant in zip(axes.flat, ranking):
        lengths = [len(r) for samples in result.replies.get(variant, {}).values() for r in samples]
        ax.hist(np.clip(real, 0, upper), bins=bins, alpha=0.5, label="my real replies", color="#55A868", density=True)
        ax.hist(np.clip(lengths, 0, upper), bins=bins, alpha=0.5, label=variant, color="#C44E52", density=True)
        ax.set_title(variant, fontsize=10)
        ax.legend(fontsize=7)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(ranking):]:
        ax.axis("off")
    fig.suptitle("Reply length in characters (clipped; densities)", fontsize=10)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def plot_style(scores: dict[str, Any], out: Path) -> Path | None:
    """Heat map of direction per style feature: mean percentile among my real replies minus 0.5."""
    names = [n for n in _rows(scores) if scores["variants"][n].get("breakdown", {}).get("style")]
    features = scores.get("style_features", {}).get("kept", [])
    if not names or not features:
        return None
    plt = _plt()
    grid = np.array([[scores["variants"][n]["breakdown"]["style"].get(f"direction.{f}", np.nan) for f in features]
                     for n in names])
    fig, ax = plt.subplots(figsize=(1.1 * len(features) + 3, 0.32 * len(names) + 1.4), dpi=90)
    image = ax.imshow(grid, cmap="RdBu_r", vmin=-0.5, vmax=0.5, aspect="auto")
    ax.set_xticks(range(len(features)), features, fontsize=8, rotation=30, ha="right")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    for (i, j), value in np.ndenumerate(grid):
        if np.isfinite(value):
            ax.text(j, i, f"{value:+.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=ax, fraction=0.03, label="more than me (+) / less (-)")
    ax.set_title("Style: where each reply set sits among my real replies (0 = like me)", fontsize=10)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def plot_search(search: dict[str, Any], out: Path, variants: dict[str, Any] | None = None) -> Path:
    """Dev fidelity (95% CI) of every blend the search tried against its chat share; the config's fixed
    ratios labelled, the chosen one (``auto``) starred; with ``variants`` (the evaluation's rows), the fixed
    ratios' and auto's fidelity on the evaluation split beside them as hollow squares."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4), dpi=90)
    on_eval = {t["fixed"]: t["chat_share"] for t in search["trials"] if t["fixed"]}
    best = next((t for t in search["trials"] if t["name"] == search["best"]), None)
    if best:
        on_eval["auto"] = best["chat_share"]
    for name, share in on_eval.items():
        row = (variants or {}).get(name) or {}
        if row.get("fidelity") is None:
            continue
        ci = row.get("fidelity_ci") or [row["fidelity"], row["fidelity"]]
        ax.errorbar(share + 0.012, row["fidelity"], yerr=[[row["fidelity"] - ci[0]], [ci[1] - row["fidelity"]]],
                    fmt="s", mfc="none", color="tab:green", markersize=6, capsize=3,
                    label="evaluation split" if name == "auto" else None)
    for trial in search["trials"]:
        if trial["fidelity"] is None:
            continue
        ci = trial["fidelity_ci"] or [trial["fidelity"], trial["fidelity"]]
        best = trial["name"] == search["best"]
        colour = "tab:red" if best else ("tab:blue" if trial["fixed"] else "tab:gray")
        ax.errorbar(trial["chat_share"], trial["fidelity"], yerr=[[trial["fidelity"] - ci[0]], [ci[1] - trial["fidelity"]]],
                    fmt="*" if best else "o", color=colour, markersize=12 if best else 5, capsize=3, alpha=0.9)
        if trial["fixed"]:
            ax.annotate(trial["fixed"], (trial["chat_share"], trial["fidelity"]), textcoords="offset points",
                        xytext=(5, 5), fontsize=8, color="tab:blue")
        if best:
            ax.annotate("auto", (trial["chat_share"], trial["fidelity"]), textcoords="offset points",
                        xytext=(5, -12), fontsize=9, color="tab:red")
    for share in (0.5, 7 / 9, 0.9):  # chat:blog 5:5, 7:2, 9:1
        ax.axvline(share, color="tab:blue", linewidth=0.5, linestyle=":")
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xlabel("chat share of the blend weights (5:5, 7:2, 9:1 dotted)")
    ax.set_ylabel("fidelity (95% CI): dev split; evaluation split hollow")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8)
    ax.set_title(f"blend search: {len(search['trials'])} trials on {search['dev_items']} dev contexts")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _ci(value: float | None, ci: list | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    if not ci or None in ci:
        return _fmt(value, digits)
    return f"{value:.{digits}f} ({ci[0]:.{digits}f} to {ci[1]:.{digits}f})"


def recommendation(scores: dict[str, Any]) -> tuple[str | None, str]:
    """The recommended variant (None when none is separable) and the reason in words."""
    rec = scores.get("recommendation") or {}
    return rec.get("winner"), rec.get("reason", "no recommendation")


def write_report(result: ScoreResult, out_dir: Path, *, title: str = "persona-eval report", samples: int = 6,
                 mask: Callable[[str], str] | None = None) -> dict[str, Path]:
    """report.md, report.html, the plots, and ``replies.json`` (what `persona-eval report DIR` re-renders from).

    ``mask`` (text -> text) is applied to every text shown: a report is read by people and shared, so private
    values are masked there even when the scores were computed on raw replies. `persona-eval run` passes the
    lab's reply guard (contact names, extra names, blocked words); without one a bare ``Scrubber`` masks.
    What the mask made of each shown text is kept in replies.json, so a re-render shows exactly the same
    text without needing the lab's guard (a re-render with a bare scrubber once showed names `run` masked).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    folder = ReportFolder(out_dir)
    scores = result.scores
    plots = {"metrics": plot_bars(scores, folder.plot("metrics")),
             "lengths": plot_lengths(result, folder.plot("lengths"))}
    if scores.get("search"):
        plots["search"] = plot_search(scores["search"], folder.plot("search"), scores["variants"])
    style = plot_style(scores, folder.plot("style"))
    if style:
        plots["style"] = style
    mask = mask or _bare_scrubber_mask()
    shown: dict[str, str] = {}

    def recorded(text: str) -> str:
        shown[text] = mask(text)
        return shown[text]

    md = markdown(result, title, samples, recorded, has_style_plot=style is not None)
    folder.report.write_text(md, "utf-8")
    folder.report_html.write_text(_html(md, plots, title), "utf-8")
    _save_snapshot(result, folder, title, samples, shown)
    return {"report": folder.report, "report_html": folder.report_html, **plots}


def _bare_scrubber_mask() -> Callable[[str], str]:
    scrubber = Scrubber()
    return lambda text: scrubber.scrub(text).text


def markdown(result: ScoreResult, title: str, samples: int, mask, has_style_plot: bool = True) -> str:
    s = result.scores
    lines = [f"# {title}", ""]
    lines += _summary(s) + _ranking(s) + _tuned(s) + _weights(s) + _facets(s) + _style(s, has_style_plot) + _failures(s)
    lines += _content(s) + _search(s) + _judge(s)

    if "privacy_probes" in s:
        lines += privacy_section(s["privacy_probes"], s.get("canary_exposure", {}))
    if "arena_agreement" in s:
        lines += agreement_section(s["arena_agreement"])
    lines += _side_by_side(result, samples, mask)
    return "\n".join(lines) + "\n"


def _summary(s: dict[str, Any]) -> list[str]:
    k = max((s["variants"][v].get("samples_per_context", 1) for v in s["ranking"]), default=1)
    best, reason = recommendation(s)
    verdict = f"**Recommended: {best}** — {reason}." if best else f"**No recommendation** — {reason}."
    return [(f"{s['n_items']} held-out contexts, {k} sampled repl{'y' if k == 1 else 'ies'} per context and variant; "
             f"my real reply to each context is what I really said. 95% BCa intervals from {s['n_bootstrap']} paired "
             f"bootstrap resamples of contexts (and samples)."), "", verdict, "",
            ("**How to read it.** *Fidelity* puts each variant on a ruler made of two controls scored the same "
             f"way: 0 = {_low_anchor(s)}, 1 = my real replies to these very "
             "contexts (`real`). Between them sit my real replies moved to other contexts (`me_elsewhere`: my voice, "
             "not this conversation) and copies of my training replies (`copy_train`). A variant near "
             "`me_elsewhere` sounds like me but does not answer what was said; below 0 it reads less like me than "
             "another person does; `constant` and `caricature` show what over-doing me costs."), ""]


def _low_anchor(s: dict[str, Any]) -> str:
    low = s.get("anchors", {}).get("low", "other_person")
    if low == "other_person":
        return "the lines of the people I talk to most (`other_person`)"
    return f"`{low}` (no lines of other people were found to build `other_person`)"


def _ranking(s: dict[str, Any]) -> list[str]:
    lines = ["## Ranking", "",
             "| # | reply set | fidelity (95% CI) | composite | " + " | ".join(SCORE_COLUMNS)
             + " | failures gate | n × samples |", "|---:|---|---|---:|" + "---:|" * len(SCORE_COLUMNS) + "---:|---:|"]
    for rank, name in enumerate(_rows(s), 1):
        e = s["variants"][name]
        control = e.get("kind") == "control"
        label = f"*{name}* (control)" if control else name
        m = e["metrics"]
        lines.append(f"| {'–' if control else rank} | {label} | {_ci(e.get('fidelity'), e.get('fidelity_ci'))} | "
                     f"{_fmt(e['composite'])} | " + " | ".join(_fmt(m.get(c)) for c in SCORE_COLUMNS)
                     + f" | {_fmt(m.get('failures'))} | {e['n']} × {e['samples_per_context']} |")
    for name, e in s["variants"].items():
        if "error" in e:
            lines.append(f"| – | {name} | not scored: {e['error']} | |" + " |" * len(SCORE_COLUMNS) + " | 0 |")
    notes = [f"`{c}`: {s['variants'][c]['note']}" for c in s.get("controls", []) if s["variants"][c].get("note")]
    lines += ["", ("Authorship, typicality, style: 1 - twice the Wasserstein distance between the replies' "
                   "percentiles among my real replies (other fold) and a uniform spread; 1 = indistinguishable, "
                   "two-sided (over-doing me costs as much as under-doing). Context: how much more a reply resembles its own context than "
                   "other conversations' (0 = chance). Failures gate: 1 - failures beyond my own rate; it multiplies "
                   "the composite."), "", "Controls: " + "; ".join(notes) + ".", ""]
    if s.get("authorship_auc") is not None:
        lines += [(f"The authorship classifier tells my real held-out replies from the other speakers' held-out lines "
                  f"with AUC {s['authorship_auc']:.3f} (names of people masked)."), ""]
    lines += ["![metrics](metrics.png)", ""]
    rec = s.get("recommendation") or {}
    if rec.get("comparisons"):
        lines += [(f"**Separation of the leader, {rec['leader']}** (paired composite differences on the same contexts, "
                  f"{1 - rec['alpha_per_comparison']:.1%} intervals):"), "",
                  "| against | difference | interval | replicates ahead | separated |", "|---|---:|---|---:|---|"]
        for rival, c in rec["comparisons"].items():
            lines.append(f"| {rival} | {_fmt(c['difference'])} | {_fmt(c['ci'][0])} to {_fmt(c['ci'][1])} | "
                         f"{c['share_ahead']:.0%} | {'yes' if c['separated'] else 'no'} |")
        lines.append("")
    return lines


def _tuned(s: dict[str, Any]) -> list[str]:
    """Tuned variants vs their parents (registry lineage ``tuned_from``); nothing when there are none."""
    rows = s.get("tuned_vs_parent") or {}
    if not rows:
        return []
    lines = ["## Tuned variants vs their parents", "",
             ("Paired composite difference (tuned minus parent) on the contexts both answered, 95% BCa interval; "
              "\"beat\" only when the whole interval is above 0."), "",
             "| tuned | parent | difference | interval | replicates ahead | contexts | verdict |",
             "|---|---|---:|---|---:|---:|---|"]
    for name, row in rows.items():
        lines.append(f"| {name} | {row['parent']} | {_fmt(row['difference'])} | {_fmt(row['ci'][0])} to "
                     f"{_fmt(row['ci'][1])} | {row['share_ahead']:.0%} | {row['n']} | {row['verdict']} |")
    seen = {name: row["eval_items_trained"] for name, row in rows.items() if row.get("eval_items_trained")}
    if seen:
        lines += ["", "Tuned on feedback about held-out items (kto on real-or-clone guesses and ratings), so scored "
                  "without them (the contexts column counts what is left): "
                  + ", ".join(f"{name} ({n} items left out)" for name, n in seen.items()) + "."]
    return lines + [""]


def _weights(s: dict[str, Any]) -> list[str]:
    basis = s.get("weights_basis", {})
    lines = ["## The composite's weights", "",
             "Composite = failures gate × (" + " + ".join(f"{s['weights'][m]:.2f} × {m}" for m in SCORE_COLUMNS
                                                        if m in s["weights"]) + ")"
             f". Weights {basis.get('text', '')}.", ""]
    margins = basis.get("margins_z")
    if margins:
        lines += ["| control ordering (dev slice of the training file) | standardised margin |", "|---|---:|"]
        lines += [f"| {k} | {v:.1f} |" for k, v in margins.items()]
        lines.append("")
    unmade = sorted({o for f in basis.get("folds", []) for o in f.get("not_achievable", [])})
    if unmade:
        lines += [(f"Orderings no weighting could make on the dev slice (the metrics cannot tell these apart here): "
                  f"{', '.join(unmade)}."), ""]
    return lines


def _facets(s: dict[str, Any]) -> list[str]:
    facets = s.get("facets") or {}
    if not facets:
        return []
    names = []
    for row in facets.values():
        for name in row.get("fidelity", {}):
            if name not in names:
                names.append(name)
    lines = ["## Per audience", "", ("Fidelity per facet (who I am talking to), each with its own anchors on those "
             "contexts: which audience does a clone get wrong?"), "",
             "| facet | n | " + " | ".join(names) + " |", "|---|---:|" + "---|" * len(names)]
    for facet, row in facets.items():
        if "skipped" in row:
            lines.append(f"| {facet} | {row['n']} | " + " | ".join("–" for _ in names) + " |")
            continue
        cells = [_ci(row["fidelity"][n]["value"], row["fidelity"][n]["ci"]) if n in row["fidelity"] else "–"
                 for n in names]
        lines.append(f"| {facet} | {row['n']} | " + " | ".join(cells) + " |")
    skipped = [f"{f}: {r['skipped']}" for f, r in facets.items() if "skipped" in r]
    if skipped:
        lines += ["", "Not scored — " + "; ".join(skipped) + "."]
    return lines + [""]


def _style(s: dict[str, Any], has_plot: bool) -> list[str]:
    kept = s.get("style_features", {}).get("kept", [])
    dropped = s.get("style_features", {}).get("dropped", {})
    lines = ["## Style: why a reply set is off", "",
             (f"My catchphrases (mined from training, names of people excluded): "
             f"{', '.join(s.get('catchphrases', [])) or '–'}"), "",
             "Distance per feature (0 = like me, 1 = all at one end) and direction (+ more than me, - less):", "",
             "| reply set | " + " | ".join(kept) + " |", "|---|" + "---:|" * len(kept)]
    for name in _rows(s):
        b = s["variants"][name].get("breakdown", {}).get("style", {})
        if b:
            lines.append(f"| {name} | " + " | ".join(
                f"{b.get(f'distance.{f}', float('nan')):.2f} ({b.get(f'direction.{f}', float('nan')):+.2f})"
                for f in kept) + " |")
    if dropped:
        lines += ["", "Features left out for this person: " + "; ".join(f"{k} ({v})" for k, v in dropped.items()) + "."]
    lines += ["", "![lengths](lengths.png)", ""]
    if has_plot:
        lines += ["![style](style.png)", ""]
    return lines


def _failures(s: dict[str, Any]) -> list[str]:
    modes = ["ai_disclaimer", "repetition", "duplicate", "empty"]
    lines = ["## Failure modes (rate; my own rate in brackets)", "",
             "| reply set | " + " | ".join(modes) + " |", "|---|" + "---:|" * len(modes)]
    for name in _rows(s):
        b = s["variants"][name].get("breakdown", {}).get("failures", {})
        if b:
            lines.append(f"| {name} | " + " | ".join(f"{b[f'rate.{m}']:.1%} ({b[f'my_rate.{m}']:.1%})"
                                                      for m in modes) + " |")
    return lines + ["", ("Duplicates: the same reply (any length) to different contexts; my own rate is what as "
                        "many of my training replies drawn at random would repeat. Repetition: more repeated "
                        "phrases than 99% of my training replies of similar length."), ""]


def _content(s: dict[str, Any]) -> list[str]:
    lines = ["## Overlap with my real reply and privacy (reported, not in the composite)", "",
             "| reply set | ROUGE-L gain | embedding gain | replies with a private-looking value | real leaks |",
             "|---|---:|---:|---:|---:|"]
    for name in _rows(s):
        e = s["variants"][name]
        p = e.get("breakdown", {}).get("privacy", {})
        lines.append(f"| {name} | {_ci(e['metrics'].get('rouge_l'), e['metrics_ci'].get('rouge_l'), 3)} | "
                     f"{_ci(e['metrics'].get('embedding_sim'), e['metrics_ci'].get('embedding_sim'), 3)} | "
                     f"{p.get('replies_with_private_values', 0):.0f} | {p.get('real_leaks', 0):.0f} |")
    return lines + ["", ("Gains: similarity with my real reply to the context minus the mean similarity with my real "
                         "replies to 20 other conversations (0 = no closer to what I said than to what I said "
                         "elsewhere). `real` cannot be scored on them without comparing a reply with itself."), ""]


def _search(s: dict[str, Any]) -> list[str]:
    search = s.get("search")
    if not search:
        return []
    lines = ["## Blend search (dev split)", "",
             (f"{len(search['trials'])} exact `cat` blends of chat and blog, each answering {search['dev_items']} "
             "contexts of the dev split (the training file's latest slice, held out of the chat adapter's "
             f"training; the evaluation split above was not used to choose); sampler: {search['sampler']}. The "
             "best on the dev split is the variant `auto`; its row in the ranking above is its first and only "
             "score on the evaluation split."), "", "![search](search.png)", "",
             "| trial | fixed ratio | chat share | strength | checkpoints | dev fidelity (95% CI) |",
             "|---|---|---:|---:|---|---|"]
    for t in sorted(search["trials"], key=lambda t: -(t["fidelity"] if t["fidelity"] is not None else -1e9)):
        steps = ", ".join(f"{p}@{step}" for p, step in t["steps"].items())
        name = f"**{t['name']}** (auto)" if t["name"] == search["best"] else t["name"]
        lines.append(f"| {name} | {t['fixed'] or ''} | {t['chat_share']:.2f} | {t['strength']:.2f} | {steps} | "
                     f"{_ci(t['fidelity'], t['fidelity_ci'])} |")
    rec = search.get("dev_recommendation") or {}
    if rec.get("comparisons"):
        separated = [n for n, c in rec["comparisons"].items() if c["separated"]]
        verdict = f"separated from {', '.join(separated)}" if separated else "not separated from any fixed ratio"
        lines += ["", (f"On the dev split the best trial is {verdict} (paired, Bonferroni-corrected); whether "
                       "`auto` beats the fixed ratios on held-out data is the recommendation above.")]
    return lines + [""]


def _judge(s: dict[str, Any]) -> list[str]:
    judge = s.get("judge")
    lines = ["## Automated judge: real or clone?", ""]
    if not judge or "skipped" in judge:
        return lines + [f"Not run: {judge.get('skipped') if judge else 'no judge configured'}.", ""]
    lines += [(f"Judge `{judge['model']}` on {judge['contexts']} contexts, each asked in both orders: "
               f"{judge['questions']} questions, {judge['unparseable']} answers naming neither reply. It answered "
               f"\"A\" {_fmt(judge['answer_a_share'], 2)} of the time (0.50 = no position bias)."), "",
              "| reply set | judge fool rate (95% CI) | answered | contexts |", "|---|---|---:|---:|"]
    for name, row in judge["candidates"].items():
        if row.get("answered"):
            lines.append(f"| {name} | {_ci(row['fool_rate'], row['ci'])} | {row['answered']} | {row['contexts']} |")
        else:
            lines.append(f"| {name} | – | 0 | 0 |")
    lines += ["", ("50% = the judge cannot tell this reply set from my real replies. Read the variants against the "
              "controls: a judge fooled by `other_person` as often as by `me_elsewhere` cannot tell voices apart."), ""]
    humans = judge.get("humans")
    if humans and humans.get("guesses"):
        lines += [(f"Against the arena's {humans['guesses']} human \"Real or clone?\" guesses: Kendall τ across variants "
                  f"{_fmt(humans['kendall_tau'], 2)}; same verdict on {_fmt(humans['item_agreement'], 2)} of the "
                  f"{humans['items_compared']} (context, variant) pairs both judged."), "",
                  "| variant | human fool rate (95% CI) | guesses | judge fool rate |", "|---|---|---:|---:|"]
        for name, row in humans["variants"].items():
            lines.append(f"| {name} | {_ci(row['human'], row['human_ci'])} | {row['human_n']} | {_fmt(row['judge'], 2)} |")
        lines.append("")
    elif humans is not None:
        lines += ["No human \"Real or clone?\" guesses in the arena yet to compare with.", ""]
    return lines


def _side_by_side(result: ScoreResult, samples: int, mask) -> list[str]:
    if not samples:
        return []
    lines = ["", "## Side by side", ""]
    for item in result.items[:samples]:
        last = next((m["content"] for m in reversed(item.context) if m.get("role") == "user"), "")
        lines += [f"**Context** (last turn): {_one_line(mask(last))}  ", f"**Me, really**: {_one_line(mask(item.reply))}  "]
        for v in result.scores["ranking"]:
            reply = (result.replies.get(v, {}).get(item.id) or ["(no reply)"])[0]
            lines.append(f"- *{v}*: {_one_line(mask(reply))}")
        lines.append("")
    return lines


def _one_line(text: str, limit: int = 160) -> str:
    text = text.replace("\n", " / ").replace("|", "\\|")
    return text if len(text) <= limit else text[:limit] + "…"


def _html(md: str, plots: dict[str, Path], title: str) -> str:
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark").enable("table").render(md)
    for path in plots.values():
        data = base64.b64encode(path.read_bytes()).decode()
        body = body.replace(f'src="{path.name}"', f'src="data:image/png;base64,{data}"')
    body = re.sub(r"<tr>(\s*<td[^>]*>–</td>\s*<td[^>]*><em>)", r'<tr class="control">\1', body)
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}"
             "table{border-collapse:collapse;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px}"
             "tr.control td{color:#777;background:#f4f4f4}img{max-width:100%}")
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{style}</style>" \
           f"</head><body>{body}</body></html>"


def rerender(out_dir: Path, mask: Callable[[str], str] | None = None) -> dict[str, Path]:
    """`persona-eval report DIR`: rebuild the report from DIR/scores.json and DIR/replies.json, showing every
    text exactly as the run that wrote them masked it (``mask`` only for texts that run did not show)."""
    folder = ReportFolder(out_dir)
    scores = read_json(folder.scores)
    saved = read_json(folder.snapshot)
    if "shown" not in saved and mask is None:
        raise EvalInputError(f"{folder.snapshot}: written by an older persona-lab, without the masked "
                             "texts its report showed", hint="give the lab's --config, so its guard masks them")
    items = [EvalItem(**item) for item in saved["items"]]
    result = ScoreResult(scores, saved["replies"], items)
    fallback = mask or _bare_scrubber_mask()
    shown = saved.get("shown", {})

    def as_shown(text: str) -> str:
        return shown[text] if text in shown else fallback(text)

    return write_report(result, out_dir, title=saved.get("title", "persona-eval report"),
                        samples=saved.get("samples", 6), mask=as_shown)


def _save_snapshot(result: ScoreResult, folder: ReportFolder, title: str, samples: int,
                   shown: dict[str, str]) -> None:
    items = [item.to_row() for item in result.items]
    write_json_atomic(folder.snapshot, {"title": title, "samples": samples, "items": items,
                                        "replies": result.replies, "shown": shown})
