"""A scripted backend and a chat page over a real store for the chat tests (no model: the tests are about the
page, the guard, the store and the limits, and must stay fast)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

from persona_lab.arena.chat import ChatLimits, ChatPage, build_chat_app
from persona_lab.privacy import PiiInventory, Scrubber
from persona_lab.serve.backend import ChatResult, GenerationParams
from persona_lab.serve.guard import ReplyGuard

REAL_ID = "11010519491231002X"  # a valid GB 11643 ID number (check digit X), "in the person's data" below
VARIANT = "chat72"


class ScriptedBackend:
    """Answers like a clone that gives away too much: asked for an ID number it tells the person's real one,
    asked whether it is an AI it says so; otherwise it echoes. Streams three characters at a time; with a
    ``delay`` (seconds per piece) it streams from a thread, as a real engine does, so a page renders each piece."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    def variants(self) -> list[str]:
        return [VARIANT, "base"]

    @staticmethod
    def reply(message: str) -> str:
        if "身份证" in message or "ID number" in message:
            return f"好吧 告诉你 我的身份证号是 {REAL_ID} 别外传 哈哈哈"
        if "AI" in message or "ai" in message:
            return "As an AI language model, I cannot have a wife."
        return f"哈哈 收到: {message[:40]}"

    def submit(self, requests, on_text=None) -> Future:
        texts = [self.reply(r.messages[-1]["content"]) for r in requests]
        future: Future = Future()

        def run() -> None:
            for row, text in enumerate(texts):
                for start in range(0, len(text), 3):
                    if on_text is not None:
                        on_text(row, text[start:start + 3])
                    time.sleep(self.delay)
            future.set_result([ChatResult(text) for text in texts])

        if self.delay:
            threading.Thread(target=run, daemon=True).start()
        else:
            run()
        return future


def guard_knowing_the_real_id() -> ReplyGuard:
    """The reply guard with the ID number in its inventory, as if ingest had found it in the person's chats."""
    scrubber = Scrubber()
    inventory = PiiInventory(b"k" * 32)
    inventory.add_all(scrubber.find(f"我的身份证 {REAL_ID}"))
    return ReplyGuard(scrubber, inventory)


def chat_page(store, limits: ChatLimits | None = None, clock=None, delay: float = 0.0) -> ChatPage:
    kwargs = {"clock": clock} if clock is not None else {}
    return ChatPage(ScriptedBackend(delay), store, guard_knowing_the_real_id(), VARIANT,
                    params=GenerationParams(32, 0.7, 0.9, None), limits=limits or ChatLimits(), persona_name="阿澈", **kwargs)


def launch_chat_app(store, password: str | None = "s3cret", limits: ChatLimits | None = None,
                    delay: float = 0.0):
    """(demo, page) on a free loopback port."""
    from tests.serve.conftest import free_port

    page = chat_page(store, limits, delay=delay)
    demo = build_chat_app(page, lambda: password)
    demo.queue(default_concurrency_limit=16)
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    return demo, page
