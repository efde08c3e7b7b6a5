"""The chat page served on 127.0.0.1 and driven through gradio_client as visitors would: consent, a guarded
reply, the dashboard behind its password, and 50 visitors at once losing no conversation (scripted backend,
so the load is on the page, the queue and the store, not on a model)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from persona_lab.workspace.votes import ArenaStore
from tests.arena.chat_helpers import REAL_ID, launch_chat_app


def test_consent_reply_and_dashboard_over_http(tmp_path):
    from gradio_client import Client

    store = ArenaStore.for_path(tmp_path / "arena.db")
    demo, _ = launch_chat_app(store)
    try:
        client = Client(demo.local_url, verbose=False)
        chat, status, box = client.predict("你身份证号多少", False, [], api_name="/chat_send")
        assert "tick the box" in status and chat == [] and box == "你身份证号多少"
        assert store.chat_counts() == {"visitors": 0, "conversations": 0, "turns": 0}
        chat, status, box = client.predict("你身份证号多少", True, [], api_name="/chat_send")
        assert chat[-1]["role"] == "assistant" and "[ID]" in str(chat[-1]["content"]) and box == ""
        assert REAL_ID not in str(chat)
        chat, status, _ = client.predict("", True, chat, api_name="/chat_send")
        assert "empty message" in status and len(chat) == 2
        assert "wrong password" in client.predict("nope", api_name="/chat_dashboard")
        board = client.predict("s3cret", api_name="/chat_dashboard")
        assert "1 visitors (who consented), 1 conversations, 1 messages" in board
        assert "Replies where a real value was masked (1)" in board and REAL_ID not in board
    finally:
        demo.close()
        store.close()


def test_a_locked_dashboard_says_how_to_unlock_it(tmp_path):
    from gradio_client import Client

    store = ArenaStore.for_path(tmp_path / "arena.db")
    demo, _ = launch_chat_app(store, password=None)
    try:
        answer = Client(demo.local_url, verbose=False).predict("", api_name="/chat_dashboard")
        assert answer.startswith("The dashboard is locked: set the environment variable")
    finally:
        demo.close()
        store.close()


VISITORS, TURNS = 50, 2


def test_fifty_concurrent_visitors_lose_no_conversation(tmp_path):
    from gradio_client import Client

    store = ArenaStore.for_path(tmp_path / "arena.db")
    demo, _ = launch_chat_app(store)

    def visitor(i: int) -> list[str]:
        client = Client(demo.local_url, verbose=False)
        chat, replies = [], []
        for turn in range(TURNS):
            chat, status, _ = client.predict(f"visitor {i} turn {turn}", True, chat, api_name="/chat_send")
            assert not status.startswith("⚠️"), status
            replies.append(str(chat[-1]["content"]))
        return replies

    try:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=VISITORS) as pool:  # all 50 at once, on 127.0.0.1
            results = list(pool.map(visitor, range(VISITORS)))
        elapsed = time.monotonic() - started
    finally:
        demo.close()
    print(f"\n{VISITORS} visitors x {TURNS} turns over loopback: {elapsed:.1f} s")
    # each visitor got its own replies back, in order
    for i, replies in enumerate(results):
        assert [f"visitor {i} turn {t}" in r for t, r in enumerate(replies)] == [True] * TURNS
    assert store.chat_counts() == {"visitors": VISITORS, "conversations": VISITORS, "turns": VISITORS * TURNS}
    by_conversation: dict[str, list[str]] = {}
    for row in store.chat_turns():
        by_conversation.setdefault(row["conversation_id"], []).append(row["message"])
    assert len(by_conversation) == VISITORS
    assert sorted(m for messages in by_conversation.values() for m in messages) == \
        sorted(f"visitor {i} turn {t}" for i in range(VISITORS) for t in range(TURNS))
    for messages in by_conversation.values():  # no conversation holds another visitor's message
        assert len({m.split(" turn ")[0] for m in messages}) == 1 and len(messages) == TURNS
    store.close()
