"""Candidate sets built from real third-party data (../shared/data), for the validity tests.

The personas here (Joey Tribbiani; 佟湘玉 against 白展堂) were kept out of the metrics' development, which
used Ross Geller and 韦小宝 (eval/bench_authorship.py): these tests measure the metrics on data they were
not tuned on.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import yaml

from persona_lab.cli import main
from persona_lab.evaluate.crossfit import conversations
from persona_lab.workspace.shapes import EvalItem, read_eval_items


def lines_of(path: Path, speaker: str | None = None, since: str | None = None) -> list[str]:
    """Distinct lines of ``speaker`` (everyone when None), optionally only from ``since`` on."""
    out = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if since and str(row.get("time", "")) < since:
                continue
            if (speaker is None or row.get("speaker") == speaker) and row.get("text", "").strip():
                out.append(row["text"].strip())
    return list(dict.fromkeys(out))


def ingest(tmp: Path, export: Path, me: str, ingest_settings: dict) -> Path:
    config = {"name": "validity", "me": [me], "workspace": str(tmp / "lab"),
              "sources": [{"path": str(export), "format": "dialogue-jsonl"}],
              "ingest": {"context_turns": 6, **ingest_settings}, "privacy": {"mask_contact_names": False}}
    path = tmp / "lab.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    assert main(["ingest", "--config", str(path), "--quiet"]) == 0
    return tmp / "lab" / "data"


def disjoint_halves(items: list[EvalItem], limit: int) -> tuple[list[EvalItem], list[EvalItem]]:
    """Alternate conversations: the scored items, and a pool of my replies from *other* conversations."""
    blocks = conversations(items)
    scored = [item for item, block in zip(items, blocks) if block % 2 == 0][:limit]
    pool = [item for item, block in zip(items, blocks) if block % 2 == 1]
    return scored, pool


def write_sets(out: Path, scored: list[EvalItem], sets: dict[str, list[str]]) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, replies in sets.items():
        paths[name] = out / f"{name}.jsonl"
        paths[name].write_text("".join(json.dumps({"id": item.id, "reply": reply}, ensure_ascii=False) + "\n"
                                       for item, reply in zip(scored, replies)), "utf-8")
    return paths


def candidate_sets(data: Path, other: list[str], generic: list[str], limit: int, seed: int = 0):
    """(scored items, {me, other, generic, catchphrase} reply lists). ``me``: my real replies from
    conversations disjoint from the scored ones; ``catchphrase``: my top catchphrase, to every context."""
    from persona_lab.evaluate.profile import load_profile

    rng = random.Random(seed)
    scored, pool = disjoint_halves(read_eval_items(data / "chat_eval.jsonl"), limit)
    scored = scored[:len(pool)]  # one reply of mine per scored context, none used twice
    assert len(scored) >= 60, (len(scored), len(pool))
    me = [item.reply for item in pool]
    rng.shuffle(me)
    profile = load_profile(data / "chat_train.jsonl")
    sets = {"me": me[:len(scored)],
            "other": rng.sample(other, len(scored)) if len(other) >= len(scored) else
            [rng.choice(other) for _ in scored],
            "generic_text": rng.sample(generic, len(scored)),
            "catchphrase": [profile.catchphrases[0]] * len(scored)}
    return scored, sets


def orderings(scores: dict) -> dict[str, float]:
    return {name: entry["composite"] for name, entry in scores["variants"].items() if "composite" in entry}


def fidelity(scores: dict) -> dict[str, float]:
    return {name: entry["fidelity"] for name, entry in scores["variants"].items() if "fidelity" in entry}


def margin_ratio(values: dict[str, float]) -> float:
    """(me - other) / (me - generic): how much of the distance to nobody's voice lies between me and another
    person."""
    return (values["me"] - values["other"]) / max(values["me"] - values["generic_text"], 1e-9)


def summary(scores: dict) -> str:
    rows = []
    for name, entry in scores["variants"].items():
        if "composite" in entry:
            m = entry["metrics"]
            rows.append(f"{name:14s} fidelity {entry['fidelity']:+.3f} composite {entry['composite']:.3f} "
                        f"authorship {m['authorship']:.3f} typicality {m['typicality']:.3f} style {m['style']:.3f} "
                        f"context {m['context']:+.3f} gate {m['failures']:.3f}")
    return "\n".join(rows) + f"\nweights {scores['weights']} ({scores['weights_basis']['text']})"


__all__ = ["candidate_sets", "fidelity", "ingest", "lines_of", "margin_ratio", "np", "orderings", "summary",
           "write_sets"]
