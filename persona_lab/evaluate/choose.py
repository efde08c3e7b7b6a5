"""`persona-eval choose`: name the final blend, with its margin and whether it is statistically separated
from the runner-up, and export it (adapter, merged full model, model card with lineage and scores).

Until the arena has ``arena.min_votes`` votes, the choice is persona-eval's recommendation: the blend with
the highest fidelity, *if* it is separable from the other blends and from another person (score.py); when
it is not, ``choose`` says so and names no winner rather than a pick from noise (export then needs
``--variant``). With enough votes, the arena's Bradley-Terry ratings count too: a rating becomes the
probability of beating an average variant (1 / (1 + 10^-(r - 1000)/400)), fidelity is clipped to [0, 1],
and the two are weighted 1 : ``arena.person_weight``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from persona_lab.errors import WorkspaceError
from persona_lab.evaluate.human import arena_votes
from persona_lab.ratings import bradley_terry
from persona_lab.workspace.shapes import load_registry, read_scores


def choose(config, variant: str | None = None) -> dict[str, Any]:
    scores = read_scores(config.paths)
    if scores is None:
        raise WorkspaceError(f"{config.paths.scores}: no evaluation yet",
                             hint="run `persona-eval run --config CFG` (or `persona-lab run`) first")
    variants = scores["variants"]
    rec = scores.get("recommendation") or {}
    pool = rec.get("pool") or [v for v in scores["ranking"] if variants[v].get("kind") == "blend"] or scores["ranking"]
    fidelity = {v: variants[v].get("fidelity") for v in pool}
    combined = {v: min(1.0, max(0.0, f)) if f is not None else 0.0 for v, f in fidelity.items()}
    votes = arena_votes(config)
    best, reason = rec.get("winner"), rec.get("reason", "no recommendation in scores.json")
    basis = f"persona-eval alone ({len(votes)} arena votes; {config.arena.min_votes} needed to count)"
    if votes and len(votes) >= config.arena.min_votes:
        ratings = bradley_terry(votes)
        w = config.arena.person_weight
        for v in pool:
            if v in ratings:
                p_win = 1.0 / (1.0 + 10 ** (-(ratings[v] - 1000.0) / 400.0))
                combined[v] = (combined[v] + w * p_win) / (1.0 + w)
        best = max(pool, key=lambda v: combined[v])
        basis = f"fidelity (weight 1) and arena Bradley-Terry from {len(votes)} votes (weight {w:g})"
        reason = f"highest combined score {combined[best]:.3f}"
    if variant is not None:
        if variant not in variants or variants[variant].get("kind") == "control":
            raise WorkspaceError(f"--variant {variant}: not a scored variant",
                                 hint=f"the scored variants are {', '.join(scores['ranking'])}")
        best, basis, reason = variant, "chosen by hand (--variant)", f"named by you; {reason}"
    order = sorted(pool, key=lambda v: combined[v], reverse=True)
    leader = best or (order[0] if order else None)
    runner_up = next((v for v in order if v != leader), None)
    margin = combined[leader] - combined[runner_up] if leader in combined and runner_up else None
    entry = variants.get(leader, {}) if leader else {}
    return {"winner": best, "leader": leader, "reason": reason, "runner_up": runner_up, "margin": margin,
            "winner_ci": entry.get("fidelity_ci"), "basis": basis, "scores": entry, "combined": combined}


def export(config, choice: dict[str, Any], out_dir: Path) -> Path:
    """The chosen variant's adapter, a merged full model and a model card."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    registry = load_registry(config.paths)
    entry = next(v for v in registry["variants"] if v["name"] == choice["winner"])
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(registry["base_path"])
    tokenizer.chat_template = registry["chat_template"]
    if entry["kind"] in ("adapter", "blend"):
        shutil.copytree(entry["path"], out_dir / "adapter", dirs_exist_ok=True)
        base = AutoModelForCausalLM.from_pretrained(registry["base_path"], dtype=torch.float32)
        merged = PeftModel.from_pretrained(base, entry["path"]).merge_and_unload()
        merged.save_pretrained(out_dir / "merged", safe_serialization=True)
        tokenizer.save_pretrained(out_dir / "merged")
    card = [f"# {config.name}: {entry['name']}", "",
            f"Chosen by `persona-eval choose` on the {choice['basis']}: {choice['reason']}.", "",
            "## Lineage", "", "```json", json.dumps(entry, ensure_ascii=False, indent=1)[:4000], "```", "",
            "## Scores", "", "```json", json.dumps(choice["scores"], ensure_ascii=False, indent=1)[:6000], "```", "",
            (f"Base model: {registry['base_model']} ({registry['base_path']}). `adapter/` loads with "
            "`PeftModel.from_pretrained`; `merged/` is the adapter merged into the base (safetensors).")]
    (out_dir / "MODEL_CARD.md").write_text("\n".join(card) + "\n", "utf-8")
    return out_dir
