"""`persona-eval choose` names no winner while persona-eval cannot separate the blends, lets human votes count
once the arena has enough of them, and takes a hand-picked variant; the report's agreement section compares
each metric with the votes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from persona_lab.cli import eval_main
from persona_lab.config import parse_config
from persona_lab.errors import PersonaLabError
from persona_lab.evaluate.choose import choose
from persona_lab.evaluate.human import agreement
from persona_lab.workspace.votes import ArenaStore


def entry(fidelity: float, style: float, kind: str) -> dict:
    return {"fidelity": fidelity, "fidelity_ci": [fidelity - 0.1, fidelity + 0.1], "composite": fidelity,
            "metrics": {"style": style}, "n": 40, "kind": kind}


SCORES = {
    "ranking": ["chat72", "chat91", "chat55", "base"],
    "controls": ["real", "other_person"],
    "variants": {"chat72": entry(0.80, 0.9, "blend"), "chat91": entry(0.78, 0.8, "blend"),
                 "chat55": entry(0.70, 0.7, "blend"), "base": entry(0.10, 0.2, "base"),
                 "real": entry(1.0, 1.0, "control"), "other_person": entry(0.0, 0.5, "control")},
    "recommendation": {"winner": None, "leader": "chat72", "separable": False,
                       "pool": ["chat72", "chat91", "chat55"], "reason": "no variant separable: chat72 leads, "
                       "but is not separated from chat91"},
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
    assert choice["winner"] is None and choice["leader"] == "chat72"  # not separable: no pick from noise
    assert "10 arena votes; 20 needed" in choice["basis"] and "not separated" in choice["reason"]
    for _ in range(10):
        vote(store, "chat72", "chat91", "model_b")
    choice = choose(config)
    assert choice["winner"] == "chat91" and "20 votes" in choice["basis"] and choice["margin"] > 0


def test_choose_by_hand_and_refuses_controls(tmp_path: Path, capsys):
    config = lab(tmp_path, min_votes=20)
    assert choose(config, "chat55")["winner"] == "chat55"
    with pytest.raises(PersonaLabError, match="not a scored variant") as info:
        choose(config, "real")
    assert "chat55" in info.value.hint  # the hint lists what can be chosen
    path = tmp_path / "c.yaml"
    path.write_text(f"name: c\nworkspace: {config.workspace_dir}\narena: {{min_votes: 20}}\n", "utf-8")
    assert eval_main(["choose", "--config", str(path)]) == 0
    assert "no final blend: no variant separable" in capsys.readouterr().out
    assert eval_main(["choose", "--config", str(path), "--export", str(tmp_path / "x")]) == 1


def test_agreement_with_votes(tmp_path: Path):
    votes = [{"model_a": "chat72", "model_b": "base", "winner": "model_a"}] * 6 + \
            [{"model_a": "chat91", "model_b": "chat55", "winner": "model_a"}] * 4 + \
            [{"model_a": "chat72", "model_b": "chat91", "winner": "model_a"}] * 3 + \
            [{"model_a": "chat55", "model_b": "base", "winner": "model_a"}] * 3 + \
            [{"model_a": "chat55", "model_b": "base", "winner": "tie"}]
    result = agreement(SCORES, votes)
    assert result["votes"] == 17
    assert result["metrics"]["fidelity"]["kendall_tau"] == 1.0
    assert result["metrics"]["style"]["battle_agreement"] == 1.0 and result["metrics"]["style"]["battles"] == 16
    flipped = [dict(v, winner="model_b") if v["winner"] == "model_a" else v for v in votes]
    assert agreement(SCORES, flipped)["metrics"]["fidelity"]["battle_agreement"] == 0.0


def test_arena_votes_for_the_weight_fit_carry_their_raters(tmp_path: Path):
    from persona_lab.evaluate.human import arena_votes

    config = lab(tmp_path, min_votes=20)
    assert arena_votes(config, with_raters=True) == []  # no arena yet: no votes, and no store created
    assert not (config.workspace_dir / "arena.db").exists()
    store = ArenaStore.for_path(config.workspace_dir / "arena.db")
    vote(store, "chat91", "chat72", "model_a")
    vote(store, "chat55", "chat72", "tie")
    votes = arena_votes(config, with_raters=True)
    assert [(v["model_a"], v["model_b"], v["winner"]) for v in votes] == [("chat91", "chat72", "model_a"),
                                                                           ("chat55", "chat72", "tie")]
    assert len({v["rater_id"] for v in votes}) == 2 and all(v["rater_id"] for v in votes)
    assert arena_votes(config) == [{k: v[k] for k in ("model_a", "model_b", "winner", "len_a", "len_b")}
                                   for v in votes]


def test_agreement_uses_ratings_at_equal_length():
    """Raters here prefer the longer reply and the weakest variant writes the longest: the plain ranking is
    upside down, so a metric matching the true order would look wrong against it. The agreement uses the
    style-controlled ratings, which recover the true order (chat72 > chat91 > chat55 > base)."""
    import math

    import numpy as np

    from persona_lab.ratings import bradley_terry

    truth = {"chat72": 0.9, "chat91": 0.3, "chat55": -0.3, "base": -0.9}
    mean_length = {"chat72": 15, "chat91": 30, "chat55": 60, "base": 120}
    rng = np.random.default_rng(0)
    votes = []
    for _ in range(1200):
        a, b = (str(x) for x in rng.choice(list(truth), 2, replace=False))
        la, lb = (max(1, int(mean_length[v] * rng.lognormal(0, 0.6))) for v in (a, b))
        p = 1 / (1 + math.exp(-(truth[a] - truth[b] + 6.0 * (la - lb) / (la + lb))))
        votes.append({"model_a": a, "model_b": b, "winner": "model_a" if rng.random() < p else "model_b",
                      "len_a": la, "len_b": lb})
    plain = bradley_terry(votes)
    assert max(plain, key=plain.get) == "base"  # length wins the plain board
    result = agreement(SCORES, votes)
    assert result["bt_method"] == "style-controlled" and result["length_coef"] > 1
    assert result["metrics"]["fidelity"]["kendall_tau"] == 1.0
    assert list(result["bt_ratings"]) == ["chat72", "chat91", "chat55", "base"]
    assert sorted(result["bt_ratings"], key=result["bt_ratings"].get, reverse=True) == SCORES["ranking"]
