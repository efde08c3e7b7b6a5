"""`persona-eval choose`: name the final blend, with its margin and whether it is statistically separated
from the runner-up, and export it (adapter, merged full model, model card with lineage and scores).

The choice combines the automated composite with the arena's Bradley-Terry ratings once the arena has at
least ``arena.min_votes`` votes: a rating becomes the probability of beating an average variant
(1 / (1 + 10^-(r - 1000)/400)) and is weighted ``arena.person_weight`` against the composite's 1. Until
then it rests on the composite alone, and says so with the vote count.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any


def choose(config) -> dict[str, Any]:
    from persona_lab.evaluate.report import recommendation

    scores_path = config.workspace_dir / "eval" / "scores.json"
    if not scores_path.exists():
        raise FileNotFoundError(f"{scores_path}: no evaluation yet; run `persona-eval run --config ...` first")
    scores = json.loads(scores_path.read_text("utf-8"))
    best, reason = recommendation(scores)
    variants = scores["variants"]
    blends = [v for v in scores["ranking"] if variants[v].get("kind") == "blend"]
    pool = blends or scores["ranking"]
    from persona_lab.evaluate.human import arena_votes

    votes = arena_votes(config)
    combined = {v: variants[v]["composite"] for v in pool}
    basis = f"automated composite alone ({len(votes)} arena votes; {config.arena.min_votes} needed to count)"
    if votes and len(votes) >= config.arena.min_votes:
        from persona_lab.arena.ratings import bradley_terry

        ratings = bradley_terry(votes)
        w = config.arena.person_weight
        for v in pool:
            if v in ratings:
                p_win = 1.0 / (1.0 + 10 ** (-(ratings[v] - 1000.0) / 400.0))
                combined[v] = (variants[v]["composite"] + w * p_win) / (1.0 + w)
        best = max(pool, key=lambda v: combined[v])
        basis = f"composite (weight 1) and arena Bradley-Terry from {len(votes)} votes (weight {w:g})"
        reason = f"highest combined score {combined[best]:.3f}"
    order = sorted(pool, key=lambda v: combined[v], reverse=True)
    runner_up = order[1] if len(order) > 1 else None
    margin = combined[best] - combined[runner_up] if runner_up else None
    return {"winner": best, "reason": reason, "runner_up": runner_up, "margin": margin,
            "winner_ci": variants[best]["composite_ci"], "basis": basis, "scores": variants[best],
            "combined": combined}


def export(config, choice: dict[str, Any], out_dir: Path) -> Path:
    """The chosen variant's adapter, a merged full model and a model card."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from persona_lab.blend.registry import load_registry

    registry = load_registry(config)
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
