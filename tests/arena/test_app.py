"""The arena driven through gradio_client against the local engine on the tiny model: a full battle, a
real-or-clone round and a rating, what is stored, and blindness before the vote."""

from __future__ import annotations

from tests.arena.conftest import as_text, assert_never_shown, launch_arena, page_counts, shows


def send(client, message: str, chat_a, chat_b, payloads: list, name: str = "Mia"):
    """One /send, keeping every streamed update as a payload; returns the last."""
    job = client.submit(message, name, False, chat_a, chat_b, api_name="/send")
    last = job.result()
    payloads += [(f"/send {message!r} update {i}", as_text(update)) for i, update in enumerate(job.outputs())]
    return last


def test_full_battle_is_blind_until_the_vote_then_stored(arena_app, baseline_pages):
    from gradio_client import Client

    demo, store = arena_app
    pages = page_counts(demo.local_url, ["base", "chat", "chat72"])  # read before any battle exists
    client = Client(demo.local_url, verbose=False)
    payloads: list[tuple[str, str]] = []
    first = send(client, "周末打球吗", [], [], payloads)
    chat_a, chat_b, status, _box = first
    assert chat_a[-1]["role"] == "assistant" and chat_b[-1]["role"] == "assistant" and status.startswith("Vote")
    second = send(client, "几点", chat_a, chat_b, payloads)  # same pair continues
    assert len(second[0]) == 4 and second[0][:2] == chat_a[:2]
    reveal = client.predict(api_name="/vote_model_a")
    (vote,) = store.votes()
    drawn = {vote["variant_a"], vote["variant_b"]}  # the names on screen, known only now
    assert len(drawn) == 2 and drawn <= {"base", "chat", "chat72"} and vote["winner"] == "model_a"
    # the check sees a name where one is shown: the reveal names both
    assert all(shows(name, reveal) for name in drawn) and reveal.startswith("Vote recorded")
    assert_never_shown(drawn, payloads)
    assert {key: n for key, n in pages.items() if key[1] in drawn} == baseline_pages(drawn)
    again = client.predict(api_name="/vote_model_b")
    assert "already" in again.lower()
    assert len(store.votes()) == 1 and store.counts()["battles_voted"] == 1 and store.counts()["turns"] == 2


class NamingBackend:
    """Each variant introduces itself by name halfway through a reply long enough to stream, a few
    characters at a time: what an adapter trained on its own lab notes might do."""

    def __init__(self) -> None:
        self.lines: dict[str, str] = {}

    def reply(self, variant: str) -> str:
        return (f"哈哈哈 ok ok 周末打球吗 sounds good to me, honestly I am {variant.upper()} and {variant} says hi, "
                f"我是{variant}啊 are we still on for saturday? bring the ball, 明天见 哈哈哈哈 绝了")

    def submit(self, requests, on_text=None):
        from concurrent.futures import Future

        from persona_lab.serve.backend import ChatResult

        texts = [self.reply(r.variant) for r in requests]
        for start in range(0, max(len(t) for t in texts), 3):
            for row, text in enumerate(texts):
                if start < len(text) and on_text is not None:
                    on_text(row, text[start:start + 3])
        future = Future()
        future.set_result([ChatResult(text) for text in texts])
        return future


def test_a_reply_naming_its_variant_voids_the_battle_and_the_name_is_never_shown(served_lab, tmp_path):
    from gradio_client import Client

    from persona_lab.arena.app import VOIDED
    from persona_lab.workspace.votes import ArenaStore

    names = ["zorblend7", "博客混合七二版"]  # a Latin name and a Chinese one (the guard cuts between CJK chars)
    store = ArenaStore.for_path(tmp_path / "arena.db")
    demo, _ = launch_arena(served_lab, store, names, backend=NamingBackend())
    try:
        client = Client(demo.local_url, verbose=False)
        payloads: list[tuple[str, str]] = []
        chat_a, _chat_b, status, _ = send(client, "你是谁", [], [], payloads)
        assert len(payloads) > 5  # it streamed: partial replies were shown on the way
        assert status == VOIDED
        assert_never_shown(names, payloads)
        for where, text in payloads:  # not even the start of a name while it streams
            for name in names:
                assert not any(name[:k] in text.lower() for k in range(3, len(name) + 1)), (where, text)
        assert "I am [variant] and [variant] says hi, 我是[variant]啊" in as_text(chat_a[-1]["content"])
        assert "Start a battle first" in client.predict(api_name="/vote_model_a")
        assert store.votes() == [] and store.battle_pairs() == [] and store.counts()["battles_failed"] == 1
        with store.engine.connect() as conn:  # what the store keeps is what was shown
            stored = [row for row in conn.exec_driver_sql("SELECT reply_a, reply_b FROM battle_turns")]
        assert len(stored) == 1 and not any(shows(n, text) for n in names for text in stored[0])
        # a new message starts a new battle, which counts as any other
        send(client, "再来", [], [], payloads)
        assert store.counts()["battles"] == 2
    finally:
        demo.close()
        store.close()


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
    assert "周末打球吗" in context and {left, right} & {"可以的 稳了"}
    assert_never_shown(["chat72"], [("round", as_text([context, left, right, status]))])
    verdict = client.predict(api_name="/guess_left")
    fooled = left != "可以的 稳了"
    real_side = "right" if fooled else "left"
    assert verdict == f"{'Fooled' if fooled else 'Right'}: the real reply was on the {real_side}; the clone was **chat72**."
    (guess,) = store.guesses()
    assert guess["variant"] == "chat72" and guess["fooled"] == fooled and guess["picked_real"] == (not fooled)
    context, reply = client.predict("Lee", True, api_name="/new_rating")
    assert reply.startswith("clone reply")
    assert "Rating recorded: 4/5" in client.predict(4, "close enough", api_name="/rate")
    (rating,) = store.ratings()
    assert rating["score"] == 4 and rating["variant"] == "chat72"
    board = client.predict(api_name="/leaderboard")
    assert board.count("No votes yet.") == 3  # the person's, friends' and strangers' boards
    assert f"| chat72 | {'100%' if fooled else '0%'} (" in board and "| chat72 | 4.00 | 1 |" in board


def test_fifty_raters_voting_at_once_lose_and_double_count_nothing(any_store, served_lab):
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    store = any_store
    demo, _ = launch_arena(served_lab, store)

    def one_rater(i: int) -> str:
        client = Client(demo.local_url, verbose=False)
        client.predict(f"在吗 {i}", f"rater{i}", False, [], [], api_name="/send")
        first = client.predict(api_name="/vote_model_a")
        second = client.predict(api_name="/vote_model_b")  # a double click must not count twice
        return first + " || " + second

    try:
        with ThreadPoolExecutor(max_workers=10) as pool:  # bounded: 50 raters, 10 at a time, all on 127.0.0.1
            results = list(pool.map(one_rater, range(50)))
    finally:
        demo.close()
    assert all(r.startswith("Vote recorded") and "already" in r.split("||")[1].lower() for r in results)
    votes = store.votes()
    assert len(votes) == 50 and len({v["battle_id"] for v in votes}) == 50
    assert store.counts()["battles_voted"] == 50


def test_a_failed_reply_is_shown_and_its_battle_never_counts(served_lab, tmp_path):
    from concurrent.futures import Future

    import pytest as _pytest

    from persona_lab.arena.battle import Arena, reveals_identity
    from persona_lab.privacy import Scrubber
    from persona_lab.serve.backend import GenerationParams
    from persona_lab.serve.guard import ReplyGuard
    from persona_lab.workspace.votes import ArenaStore, BattleFailed

    class Broken:  # fails after the request was accepted, as an engine that dies mid-batch does
        def submit(self, requests, on_text=None):
            future = Future()
            future.set_exception(RuntimeError("engine exploded"))
            return future

    store = ArenaStore.for_path(tmp_path / "a.db")
    arena = Arena(Broken(), store, ReplyGuard(Scrubber(), None), ["chat", "chat72"],
                  params=GenerationParams(8, 0.7, 0.9, None), seed=1)
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
