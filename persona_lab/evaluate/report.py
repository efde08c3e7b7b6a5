"""The report: report.md, a self-contained report.html (plots inlined) and PNG plots, from scores.json
and the replies. Plots with matplotlib: composite and each metric as bars with 95% CIs, reply lengths
(real against each variant), and a radar chart of style rates."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from persona_lab.evaluate.score import ScoreResult


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for family in ("Noto Sans CJK SC", "WenQuanYi Zen Hei", "SimHei"):  # CJK labels, where a font exists
        from matplotlib import font_manager

        if any(family in f.name for f in font_manager.fontManager.ttflist):
            plt.rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
            break
    return plt


def plot_bars(scores: dict[str, Any], out: Path) -> Path:
    plt = _plt()
    ranking = scores["ranking"]
    metrics = ["composite"] + list(scores["weights"])
    cols = 3
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.6 * rows), dpi=90, squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        values, lows, highs = [], [], []
        for v in ranking:
            entry = scores["variants"][v]
            value = entry["composite"] if metric == "composite" else entry["metrics"][metric]
            lo, hi = entry["composite_ci"] if metric == "composite" else entry["metrics_ci"][metric]
            values.append(value)
            lows.append(max(value - lo, 0))
            highs.append(max(hi - value, 0))
        ax.barh(ranking[::-1], values[::-1], xerr=[lows[::-1], highs[::-1]], color="#4C72B0", alpha=0.85,
                capsize=3)
        ax.set_title(metric, fontsize=10)
        ax.tick_params(labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.suptitle("Higher = more like me (bars: value, whiskers: 95% bootstrap CI)", fontsize=10)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def plot_lengths(result: ScoreResult, out: Path) -> Path:
    plt = _plt()
    real = np.array([len(item.reply) for item in result.items])
    ranking = result.scores["ranking"]
    cols = 3
    rows = math.ceil(len(ranking) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.4 * rows), dpi=90, squeeze=False, sharex=True)
    upper = max(40, int(np.percentile(real, 95) * 3))
    bins = np.linspace(0, upper, 25)
    for ax, variant in zip(axes.flat, ranking):
        lengths = [len(r) for r in result.replies[variant].values()]
        ax.hist(np.clip(real, 0, upper), bins=bins, alpha=0.5, label="my real replies", color="#55A868")
        ax.hist(np.clip(lengths, 0, upper), bins=bins, alpha=0.5, label=variant, color="#C44E52")
        ax.set_title(variant, fontsize=10)
        ax.legend(fontsize=7)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(ranking):]:
        ax.axis("off")
    fig.suptitle("Reply length in characters (clipped)", fontsize=10)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def plot_radar(scores: dict[str, Any], out: Path) -> Path | None:
    first = next(iter(scores["variants"].values()))
    style = first.get("breakdown", {}).get("style")
    if not style:
        return None
    plt = _plt()
    features = ["emoji", "question", "exclamation", "laughter", "latin_share", "multi_line", "catchphrase"]
    angles = np.linspace(0, 2 * np.pi, len(features), endpoint=False).tolist()
    angles += angles[:1]
    fig = plt.figure(figsize=(6, 6), dpi=90)
    ax = fig.add_subplot(polar=True)
    real = [first["breakdown"]["style"].get(f"rate_real.{f}", 0) for f in features]
    ax.plot(angles, real + real[:1], color="black", lw=2.2, label="my real replies")
    for variant in scores["ranking"][:5]:
        b = scores["variants"][variant]["breakdown"]["style"]
        values = [b.get(f"rate.{f}", 0) for f in features]
        ax.plot(angles, values + values[:1], lw=1.2, label=variant)
    ax.set_xticks(angles[:-1])
    ax.set_xticklabels(features, fontsize=8)
    ax.set_title("Style rates (share of replies)", fontsize=10)
    ax.legend(loc="upper right", bbox_to_anchor=(1.35, 1.1), fontsize=7)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def recommendation(scores: dict[str, Any]) -> tuple[str | None, str]:
    """The best blend (or, without blends, the best variant) and the reason in words."""
    variants = scores["variants"]
    blends = [v for v in scores["ranking"] if variants[v].get("kind") == "blend"]
    pool = blends or scores["ranking"]
    if not pool:
        return None, "no variant could be scored"
    best = pool[0]
    entry = variants[best]
    reason = (f"highest composite among {'blends' if blends else 'variants'}: {entry['composite']:.3f} "
              f"(95% CI {entry['composite_ci'][0]:.3f}–{entry['composite_ci'][1]:.3f}, n={entry['n']})")
    separation = scores.get("separation")
    if separation and separation["winner"] == best:
        reason += (f"; ahead of {separation['runner_up']} in {separation['winner_ahead_share']:.0%} of paired "
                   f"bootstrap replicates ({'separated' if separation['separated'] else 'not separated'} at 95%)")
    return best, reason


def write_report(result: ScoreResult, out_dir: Path, *, title: str = "persona-eval report",
                 samples: int = 6, extra_sections: list[str] | None = None, mask=None) -> dict[str, Path]:
    """``mask`` (text -> text) is applied to every reply shown: a report is read by people and shared, so
    private values in replies are masked there even when the scores were computed on raw replies."""
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = result.scores
    plots = {"bars": plot_bars(scores, out_dir / "metrics.png"),
             "lengths": plot_lengths(result, out_dir / "lengths.png")}
    radar = plot_radar(scores, out_dir / "style_radar.png")
    if radar:
        plots["radar"] = radar
    if mask is None:
        from persona_lab.privacy import Scrubber

        scrubber = Scrubber()

        def mask(text: str) -> str:
            return scrubber.scrub(text).text
    md = _markdown(result, title, samples, extra_sections or [], mask)
    (out_dir / "report.md").write_text(md, "utf-8")
    (out_dir / "report.html").write_text(_html(md, plots, title), "utf-8")
    return {"report.md": out_dir / "report.md", "report.html": out_dir / "report.html", **plots}


def _markdown(result: ScoreResult, title: str, samples: int, extra: list[str], mask) -> str:
    s = result.scores
    metrics = list(s["weights"])
    best, reason = recommendation(s)
    lines = [f"# {title}", "",
             (f"{s['n_items']} held-out contexts; my real reply to each is the reference. Higher is more like me. "
             f"95% CIs from {s['n_bootstrap']} bootstrap resamples of the contexts. "
             f"Composite weights: {', '.join(f'{k} {v:g}' for k, v in s['weights'].items())}."), "",
             f"**Recommended: {best}** — {reason}." if best else "", "", "## Ranking", "",
             "| # | variant | composite (95% CI) | " + " | ".join(metrics) + " | n |",
             "|---:|---|---|" + "---:|" * len(metrics) + "---:|"]
    for rank, v in enumerate(s["ranking"], 1):
        e = s["variants"][v]
        lines.append(f"| {rank} | {v} | {e['composite']:.3f} ({e['composite_ci'][0]:.3f}–{e['composite_ci'][1]:.3f}) | "
                     + " | ".join(_fmt(e["metrics"][m]) for m in metrics) + f" | {e['n']} |")
    if s.get("authorship_auc") is not None:
        lines += ["", (f"Authorship classifier AUC on held-out data (my real replies vs the other speakers' "
                      f"held-out lines): **{s['authorship_auc']:.3f}**.")]
    lines += ["", "![metrics](metrics.png)", "", "## Where the metrics disagree", "",
              "| metric | best variant | Kendall τ with the composite ranking |", "|---|---|---:|"]
    for name, d in s.get("disagreements", {}).items():
        lines.append(f"| {name} | {d['best']} | {_fmt(d['kendall_tau_vs_composite'], 2)} |")
    lines += ["", "## Style: why a variant is off", "",
              f"My catchphrases (mined from training): {', '.join(s.get('catchphrases', [])) or '–'}", "",
              "| variant | median length (mine) | length | question | laughter | catchphrase | catchphrase profile |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for v in s["ranking"]:
        b = s["variants"][v]["breakdown"].get("style", {})
        if b:
            lines.append(f"| {v} | {b['median_length']:.0f} ({b['median_length_real']:.0f}) | " + " | ".join(
                _fmt(b.get(f"distance.{k}"), 2) for k in
                ["length", "question", "laughter", "catchphrase", "catchphrase_profile"]) + " |")
    lines += ["", "Distances: 0 = same as my real replies, 1 = as far as it gets.", "",
              "![lengths](lengths.png)", "", "![style](style_radar.png)", "", "## Failure modes", "",
              "| variant | AI disclaimer | repetition | duplicate replies | empty | swearing above mine |",
              "|---|---:|---:|---:|---:|---:|"]
    for v in s["ranking"]:
        b = s["variants"][v]["breakdown"].get("failures", {})
        if b:
            lines.append(f"| {v} | " + " | ".join(f"{b[f'rate.{k}']:.1%}" for k in
                         ["ai_disclaimer", "repetition", "duplicate_reply", "empty", "swearing"]) + " |")
    lines += ["", "## Privacy", "", "| variant | replies with a private-looking value | real leaks | invented |",
              "|---|---:|---:|---:|"]
    for v in s["ranking"]:
        b = s["variants"][v]["breakdown"].get("privacy", {})
        if b:
            lines.append(f"| {v} | {b['replies_with_private_values']:.0f} | {b['real_leaks']:.0f} | "
                         f"{b['invented']:.0f} |")
    lines += extra
    if samples:
        lines += ["", "## Side by side", ""]
    for item in result.items[:samples]:
        last = next((m["content"] for m in reversed(item.context) if m.get("role") == "user"), "")
        lines += [f"**Context** (last turn): {_one_line(mask(last))}  ",
                  f"**Me, really**: {_one_line(mask(item.reply))}  "]
        for v in s["ranking"]:
            lines.append(f"- *{v}*: {_one_line(mask(result.replies[v].get(item.id, '(no reply)')))}")
        lines.append("")
    return "\n".join(lines) + "\n"


def _one_line(text: str, limit: int = 160) -> str:
    text = text.replace("\n", " / ").replace("|", "\\|")
    return text if len(text) <= limit else text[:limit] + "…"


def _html(md: str, plots: dict[str, Path], title: str) -> str:
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark").enable("table").render(md)
    for path in plots.values():
        data = base64.b64encode(path.read_bytes()).decode()
        body = body.replace(f'src="{path.name}"', f'src="data:image/png;base64,{data}"')
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}"
             "table{border-collapse:collapse;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px}"
             "img{max-width:100%}")
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{style}</style>" \
           f"</head><body>{body}</body></html>"


def rerender(out_dir: Path) -> dict[str, Path]:
    """`persona-eval report DIR`: rebuild the report from DIR/scores.json and DIR/replies.json."""
    from persona_lab.evaluate.profile import EvalItem

    scores = json.loads((out_dir / "scores.json").read_text("utf-8"))
    saved = json.loads((out_dir / "replies.json").read_text("utf-8"))
    items = [EvalItem(**item) for item in saved["items"]]
    result = ScoreResult(scores, {}, {}, saved["replies"], items)
    extra = []
    if "privacy_probes" in scores:
        from persona_lab.evaluate.probes import privacy_section

        extra = privacy_section(scores["privacy_probes"], scores.get("canary_exposure", {}))
    if "arena_agreement" in scores:
        from persona_lab.evaluate.human import agreement_section

        extra += agreement_section(scores["arena_agreement"])
    return write_report(result, out_dir, title=saved.get("title", "persona-eval report"),
                        samples=saved.get("samples", 6), extra_sections=extra)


def save_replies(result: ScoreResult, out_dir: Path, title: str, samples: int = 6) -> None:
    items = [{"id": i.id, "context": i.context, "reply": i.reply, "facet": i.facet} for i in result.items]
    (out_dir / "replies.json").write_text(json.dumps({"title": title, "samples": samples, "items": items,
                                                      "replies": result.replies}, ensure_ascii=False), "utf-8")
