"""The automated "real or clone?" judge: its arithmetic on judges whose answers we know, its cache, its
agreement with human guesses, and the real HTTP path with the embedded engine as the judge."""

from __future__ import annotations

import pytest

from persona_lab.config import JudgeSettings
from persona_lab.evaluate.judge import agreement_with_humans, parse_answer, run_judge
from persona_lab.serve.backend import ChatResult
from persona_lab.workspace.shapes import EvalItem
from tests.serve.conftest import api_server, engine  # noqa: F401  (fixtures)

ITEMS = [EvalItem(f"e{i}", [{"role": "user", "content": f"question {i}?"}], f"my real answer {i}") for i in range(10)]
REPLIES = {"clone": {f"e{i}": [f"clone answer {i}"] for i in range(10)},
           "other_person": {f"e{i}": [f"someone else {i}"] for i in range(10)}}


class ScriptedJudge:
    """Answers with ``answer(question_text)``; counts calls."""

    def __init__(self, answer) -> None:
        self.answer, self.calls = answer, 0

    def chat_batch(self, requests):
        self.calls += len(requests)
        return [ChatResult(self.answer(r.messages[-1]["content"])) for r in requests]


def knows_the_truth(question: str) -> str:
    return "A" if "Reply A: my real answer" in question else "B"


def settings(n: int = 10) -> JudgeSettings:
    return JudgeSettings(base_url="http://127.0.0.1:9/v1", model="scripted", n=n)


def test_a_judge_that_always_says_a_is_fooled_half_the_time(tmp_path):
    result = run_judge(settings(), "Joey", ITEMS, REPLIES, ["clone", "other_person"], tmp_path / "j.jsonl", 0,
                       backend=ScriptedJudge(lambda q: "A"))
    assert result["questions"] == 40 and result["unparseable"] == 0 and result["answer_a_share"] == 1.0
    for row in result["candidates"].values():
        assert row["fool_rate"] == 0.5 and row["answered"] == 20 and row["contexts"] == 10


def test_a_judge_that_knows_is_never_fooled_and_one_that_rambles_is_not_counted(tmp_path):
    result = run_judge(settings(), "Joey", ITEMS, REPLIES, ["clone"], tmp_path / "a.jsonl", 0,
                       backend=ScriptedJudge(knows_the_truth))
    assert result["candidates"]["clone"]["fool_rate"] == 0.0 and result["candidates"]["clone"]["ci"] == [0.0, 0.0]
    fooled = run_judge(settings(), "Joey", ITEMS, REPLIES, ["clone"], tmp_path / "b.jsonl", 0,
                       backend=ScriptedJudge(lambda q: "B" if knows_the_truth(q) == "A" else "A"))
    assert fooled["candidates"]["clone"]["fool_rate"] == 1.0
    rambling = run_judge(settings(), "Joey", ITEMS, REPLIES, ["clone"], tmp_path / "c.jsonl", 0,
                         backend=ScriptedJudge(lambda q: "Both sound fine to me."))
    assert rambling["unparseable"] == 20 and rambling["candidates"]["clone"] == {"answered": 0}


def test_answers_are_cached_by_reply(tmp_path):
    cache = tmp_path / "judge.jsonl"
    first = ScriptedJudge(knows_the_truth)
    run_judge(settings(4), "Joey", ITEMS, REPLIES, ["clone"], cache, 0, backend=first)
    again = ScriptedJudge(knows_the_truth)
    run_judge(settings(4), "Joey", ITEMS, REPLIES, ["clone"], cache, 0, backend=again)
    assert first.calls == 8 and again.calls == 0
    changed = {"clone": {k: [v[0] + "!"] for k, v in REPLIES["clone"].items()}}
    run_judge(settings(4), "Joey", ITEMS, changed, ["clone"], cache, 0, backend=again)
    assert again.calls == 8  # a new reply is a new question


def test_parse_answer():
    assert parse_answer("A") == "A" and parse_answer(" b.") == "B" and parse_answer("Reply B") == "B"
    assert parse_answer("Both") is None and parse_answer("") is None and parse_answer("ABBA") is None


def test_agreement_with_human_guesses():
    judge = {"candidates": {"clone": {"fool_rate": 0.5, "per_item": {"e1": 1.0, "e2": 0.0, "e3": 0.5}},
                            "base": {"fool_rate": 0.0, "per_item": {"e1": 0.0}},
                            "chat": {"fool_rate": 0.25, "per_item": {}}}}
    guesses = ([{"variant": "clone", "item_id": "e1", "fooled": True}] * 2
               + [{"variant": "clone", "item_id": "e2", "fooled": True}]
               + [{"variant": "base", "item_id": "e1", "fooled": False}] * 3
               + [{"variant": "chat", "item_id": "e9", "fooled": False}, {"variant": "chat", "item_id": "e9", "fooled": True}])
    result = agreement_with_humans(judge, guesses)
    assert result["guesses"] == 8 and result["items_compared"] == 3  # e3 (judge split) and e9 (humans split) out
    assert result["item_agreement"] == pytest.approx(2 / 3)
    assert result["variants"]["clone"]["human"] == 1.0 and result["variants"]["base"]["human"] == 0.0
    assert result["kendall_tau"] == pytest.approx(1.0)
    assert agreement_with_humans(judge, []) == {"guesses": 0}


@pytest.mark.slow
def test_the_embedded_engine_as_judge_over_http(api_server, tmp_path):  # noqa: F811
    url, _ = api_server
    judge = JudgeSettings(base_url=url, model="base", n=3, max_tokens=4)
    result = run_judge(judge, "阿澈", ITEMS, REPLIES, ["clone", "other_person"], tmp_path / "j.jsonl", 0)
    assert result["questions"] == 12
    answered = sum(row.get("answered", 0) for row in result["candidates"].values())
    assert answered + result["unparseable"] == 12  # the tiny random model rarely says A or B: machinery only
    assert len((tmp_path / "j.jsonl").read_text("utf-8").splitlines()) == 12


@pytest.mark.slow
def test_the_lab_runs_its_configured_judge_and_reports_it(api_server, persona_files, tmp_path):  # noqa: F811
    from persona_lab.config import parse_config
    from persona_lab.evaluate.profile import load_profile
    from persona_lab.evaluate.report import markdown
    from persona_lab.evaluate.runner import _judge
    from persona_lab.evaluate.score import score
    from persona_lab.workspace.shapes import read_eval_items

    url, _ = api_server
    items = read_eval_items(persona_files["refs"])
    result = score(load_profile(persona_files["train"]), items, {"me": {i.id: [i.reply] for i in items}}, n_boot=30)
    config = parse_config({"name": "j", "persona_name": "阿澈", "workspace": str(tmp_path / "ws"),
                           "eval": {"judge": {"base_url": url, "model": "base", "n": 3, "max_tokens": 3}}},
                          tmp_path / "j.yaml")
    result.scores["judge"] = _judge(config, result, ["me"], 0, print)
    judge = result.scores["judge"]
    assert set(judge["candidates"]) == {"me", "me_elsewhere", "other_person"} and judge["questions"] == 18
    assert (tmp_path / "ws" / "eval" / "judge.jsonl").exists()
    assert "Judge `base` on 3 contexts" in markdown(result, "t", 0, lambda text: text)
