"""The arena driven through gradio_client against the local engine on the tiny model: a full battle, a
real-or-clone round and a rating, what is stored, and blindness before the vote."""

from __future__ import annotations

import json

import httpx

NAMES = ["base", "prompted", "chat", "blog", "chat55", "chat72", "chat91"]


def no_names(value) -> bool:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return not any(f'"{n}"' in text or f" {n} " in f" {text} " for n in ("chat72", "chat55", "chat91", "prompted"))


def test_full_battle_is_blind_until_the_vote_then_stored(arena_app):
    from gradio_client import Client

    demo, store = arena_app
    page = httpx.get(demo.local_url, timeout=30).text + httpx.get(demo.local_url + "config", timeout=30).text
    assert all(name not in page for name in ("chat72", "chat55", "chat91", "prompted"))
    client = Client(demo.local_url, verbose=False)
    first = client.predict("周末打球吗", "Mia", False, [], [], api_name="/send")
    assert no_names(first)
    chat_a, chat_b, _status, _box = first
    assert chat_a[-1]["role"] == "assistant" and chat_b[-1]["role"] == "assistant"
    second = client.predict("几点", "Mia", False, chat_a, chat_b, api_name="/send")  # same pair continues
    assert no_names(second) and len(second[0]) == 4
    reveal = client.predict(api_name="/vote_model_a")
    assert "Vote recorded" in reveal and any(name in reveal for name in ("base", "chat", "chat72"))
    again = client.predict(api_name="/vote_model_b")
    assert "already" in again.lower()
    votes = store.votes()
    assert len(votes) == 1 and votes[0]["winner"] == "model_a"
    assert {votes[0]["variant_a"], votes[0]["variant_b"]} <= {"base", "chat", "chat72"}


def test_empty_and_huge_messages_store_nothing(arena_app):
    from gradio_client import Client

    demo, store = arena_app
    client = Client(demo.local_url, verbose=False)
    _, _, status, _ = client.predict("   ", "", False, [], [], api_name="/send")
    assert "empty" in status.lower()
    _, _, status, _ = client.predict("x" * 100_000, "", False, [], [], api_name="/send")
    assert "long" in status.lower() or "characters" in status.lower()
    assert store.votes() == [] and store.battle_pairs() == []
    assert "Start a battle first" in client.predict(api_name="/vote_tie")


def test_real_or_clone_round_and_rating_are_stored(arena_app):
    from gradio_client import Client

    demo, store = arena_app
    client = Client(demo.local_url, verbose=False)
    context, left, right, status = client.predict("Lee", True, api_name="/new_round")
    assert "周末打球吗" in context and {left, right} & {"可以的 稳了"} and no_names([context, left, right, status])
    verdict = client.predict(api_name="/guess_left")
    assert "chat72" in verdict and ("Right" in verdict or "Fooled" in verdict)
    (guess,) = store.guesses()
    assert guess["variant"] == "chat72" and guess["fooled"] == (left != "可以的 稳了")
    context, reply = client.predict("Lee", True, api_name="/new_rating")
    assert reply.startswith("clone reply")
    assert "Rating recorded: 4/5" in client.predict(4, "close enough", api_name="/rate")
    (rating,) = store.ratings()
    assert rating["score"] == 4 and rating["variant"] == "chat72"
    board = client.predict(api_name="/leaderboard")
    assert "Real or clone?" in board and "chat72" in board


def test_fifty_raters_voting_at_once_lose_and_double_count_nothing(arena_app):
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    demo, store = arena_app

    def one_rater(i: int) -> str:
        client = Client(demo.local_url, verbose=False)
        client.predict(f"在吗 {i}", f"rater{i}", False, [], [], api_name="/send")
        first = client.predict(api_name="/vote_model_a")
        second = client.predict(api_name="/vote_model_b")  # a double click must not count twice
        return first + " || " + second

    with ThreadPoolExecutor(max_workers=10) as pool:  # bounded: 50 raters, 10 at a time, all on 127.0.0.1
        results = list(pool.map(one_rater, range(50)))
    assert all(r.startswith("Vote recorded") and "already" in r.split("||")[1].lower() for r in results)
    votes = store.votes()
    assert len(votes) == 50 and len({v["battle_id"] for v in votes}) == 50
    assert store.counts()["battles_voted"] == 50


def test_a_failed_reply_is_shown_and_its_battle_never_counts(served_lab, tmp_path):
    import pytest as _pytest

    from persona_lab.arena.battle import Arena, reveals_identity
    from persona_lab.arena.store import ArenaStore, BattleFailed
    from persona_lab.privacy import Scrubber
    from persona_lab.serve.guard import ReplyGuard

    class Broken:
        def generate(self, requests, on_text=None):
            raise RuntimeError("engine exploded")

    store = ArenaStore.for_path(tmp_path / "a.db")
    arena = Arena(Broken(), store, ReplyGuard(Scrubber(), None), ["chat", "chat72"], seed=1)
    rater = store.add_rater("x", False)
    battle = arena.start_battle(rater)
    with _pytest.raises(RuntimeError, match="exploded"):
        list(arena.reply_pair(battle, [], [], "hi"))
    with _pytest.raises(BattleFailed):
        arena.vote(battle, rater, "A sounds more like me")
    assert store.votes() == [] and store.battle_pairs() == []
    assert reveals_identity("Hi, I am chat72, a blend.", ["chat", "chat72"])
    assert not reveals_identity("I wrote a chat log and a blog post.", ["chat", "blog"])


def test_shared_password_guards_the_arena(served_lab, tmp_path, monkeypatch):
    import httpx as _httpx

    from persona_lab.arena.app import launch

    monkeypatch.setenv("ARENA_TEST_PASSWORD", "s3cret")
    served_lab.arena.password_env = "ARENA_TEST_PASSWORD"
    from tests.serve.conftest import free_port

    demo = launch(served_lab, host="127.0.0.1", port=free_port(), block=False)
    try:
        anonymous = _httpx.get(demo.local_url + "config", timeout=30)
        assert anonymous.status_code == 401 or anonymous.json().get("auth_required")
        assert _httpx.post(demo.local_url + "login", data={"username": "a", "password": "wrong"},
                           timeout=30).status_code >= 400
        with _httpx.Client(timeout=30) as client:
            assert client.post(demo.local_url + "login", data={"username": "a", "password": "s3cret"}).status_code == 200
            config = client.get(demo.local_url + "config").json()
            assert not config.get("auth_required") and "components" in config
    finally:
        demo.close()
