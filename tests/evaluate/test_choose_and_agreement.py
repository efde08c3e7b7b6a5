"""`persona-eval choose` rests on the composite until the arena has enough votes, then human votes count;
the report's agreement section compares each metric with the votes."""

from __future__ import annotations

import json
from pathlib import Path

from persona_lab.arena.store import ArenaStore
from persona_lab.config import parse_config
from persona_lab.evaluate.choose import choose
from persona_lab.evaluate.human import agreement

SCORES = {
    "ranking": ["chat72", "chat91", "chat55", "base"],
    "weights": {"style": 1.0},
    "variants": {name: {"composite": c, "composite_ci": [c - 0.05, c + 0.05], "metrics": {"style": s}, "n": 40,
                        "kind": "base" if name == "base" else "blend"}
                 for name, c, s in [("chat72", 0.80, 0.9), ("chat91", 0.78, 0.8), ("chat55", 0.70, 0.7),
                                    ("base", 0.50, 0.2)]},
}


def lab(tmp_path: Path, min_votes: int):
    config = parse_config({"name": "c", "workspace": str(tmp_path / "ws"), "arena": {"min_votes": min_votes}},
                          tmp_path / "c.yaml")
    (config.workspace_dir / "eval").mkdir(parents=True)
    (config.workspace_dir / "eval" / "scores.json").write_text(json.dumps(SCORES), "utf-8")
    return config


def vote(store: ArenaStore, a: str, b: str, winner: str) -> None:
    rater = store.add_rater(None, False)
    battle = store.open_battle(rater, a, b)
    store.add_turn(battle, "hi", "x", "y")
    store.record_vote(battle, rater, winner)


def test_choose_uses_votes_only_once_there_are_enough(tmp_path: Path):
    config = lab(tmp_path, min_votes=20)
    store = ArenaStore.for_path(config.workspace_dir / "arena.db")
    for _ in range(10):  # humans clearly prefer chat91
        vote(store, "chat91", "chat72", "model_a")
    choice = choose(config)
    assert choice["winner"] == "chat72" and "10 arena votes; 20 needed" in choice["basis"]
    for _ in range(10):
        vote(store, "chat72", "chat91", "model_b")
    choice = choose(config)
    assert choice["winner"] == "chat91" and "20 votes" in choice["basis"] and choice["margin"] > 0


def test_agreement_with_votes(tmp_path: Path):
    votes = [{"model_a": "chat72", "model_b": "base", "winner": "model_a"}] * 6 + \
            [{"model_a": "chat91", "model_b": "chat55", "winner": "model_a"}] * 4 + \
            [{"model_a": "chat72", "model_b": "chat91", "winner": "model_a"}] * 3 + \
            [{"model_a": "chat55", "model_b": "base", "winner": "model_a"}] * 3 + \
            [{"model_a": "chat55", "model_b": "base", "winner": "tie"}]
    result = agreement(SCORES, votes)
    assert result["votes"] == 17
    assert result["metrics"]["composite"]["kendall_tau"] == 1.0
    assert result["metrics"]["style"]["battle_agreement"] == 1.0 and result["metrics"]["style"]["battles"] == 16
    flipped = [dict(v, winner="model_b") if v["winner"] == "model_a" else v for v in votes]
    assert agreement(SCORES, flipped)["metrics"]["composite"]["battle_agreement"] == 0.0
