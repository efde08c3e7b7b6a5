"""The chat page served on 127.0.0.1 and driven through gradio_client as visitors would: consent, a guarded
reply, the dashboard behind its password, and 50 visitors at once losing no conversation (scripted backend,
so the load is on the page, the queue and the store, not on a model)."""

from __future__ import annotations

import threading
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
        chat, status, _ = client.predict("长" * 100_000, True, chat, api_name="/chat_send")
        assert "message too long: 100,000 characters; the limit is 2,000" in status and len(chat) == 2
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

    everyone_connected = threading.Barrier(VISITORS, timeout=300)

    def visitor(i: int) -> list[str]:
        # httpx's default 5 s timeout is for the network; on a loaded 2-core machine 50 page loads at once can
        # take longer than that, and slowness is not what this test is about (it asserts no speed)
        client = Client(demo.local_url, verbose=False, httpx_kwargs={"timeout": 120})
        everyone_connected.wait()  # then all 50 chat at the same time
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
    print(f"\n{VISITORS} visitors (connect, then {TURNS} turns each, all at once) over loopback: {elapsed:.1f} s")
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


def test_the_chat_tab_in_the_arena_names_no_variant(tmp_path):
    """With arena.chat.enabled the chat page is a tab of the blind arena: the page must not name the variant
    visitors chat with (the persona's name only), or the arena would no longer be blind."""
    from gradio_client import Client

    from persona_lab.arena.app import build_app
    from persona_lab.arena.battle import Arena
    from persona_lab.serve.backend import GenerationParams
    from tests.arena.chat_helpers import VARIANT, chat_page
    from tests.arena.conftest import fetch_pages, shows
    from tests.serve.conftest import free_port

    store = ArenaStore.for_path(tmp_path / "arena.db")
    arena = Arena(None, store, None, ["qzx1", "qzx2"], params=GenerationParams(8, 0.7, 0.9, None))
    demo = build_app(arena, store, chat={"page": chat_page(store), "admin_password": lambda: "s3cret"})
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        pages = fetch_pages(demo.local_url)
        assert "You are chatting with an AI clone of 阿澈" in pages["config"]
        assert all(shows(VARIANT, text) == 0 for text in pages.values())
        client = Client(demo.local_url, verbose=False)
        chat, status, _ = client.predict("hi", True, [], api_name="/chat_send")
        assert "收到: hi" in str(chat[-1]["content"]) and not shows(VARIANT, str(chat) + status)
        assert store.chat_counts()["turns"] == 1 and store.votes() == []  # a chat is never a vote
    finally:
        demo.close()
        store.close()
