"""The arena on the tiny model: an app over a store (SQLite by default, PostgreSQL for the pg tests), and the
blindness check every UI test uses.

Blindness is checked on the exact names of the variants drawn, read from the store after the vote, whatever
they are: "chat" and "base" as much as "chat72". A name counts as shown when it appears as a word (not inside
a longer word: "chatbot" does not show "chat"), in any case. Gradio's page and config carry its own
documentation, where "chat" is an ordinary word; they are compared with the page of an arena serving other
variants instead: the same number of occurrences means the page does not depend on the variants.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from persona_lab.serve.backend import GenerationParams
from persona_lab.workspace.shapes import EvalItem

PAGES = ("", "config", "gradio_api/info")
FIXTURE_VARIANTS = ["base", "chat", "chat72"]


def shows(name: str, text: str) -> int:
    """How many times ``text`` shows ``name`` as a word."""
    return len(re.findall(rf"(?i)(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text))


def assert_never_shown(names, payloads: list[tuple[str, str]]) -> None:
    """No payload (where, text) shows any of ``names``."""
    assert payloads, "nothing was captured: the check would pass vacuously"
    for where, text in payloads:
        for name in names:
            if shows(name, text):
                at = re.search(rf"(?i)(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text).start()
                raise AssertionError(f"{name!r} shown before the vote in {where}: …{text[max(0, at - 80):at + 80]}…")


def as_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def fetch_pages(url: str) -> dict[str, str]:
    return {path: httpx.get(url + path, timeout=60).text for path in PAGES}


def launch_arena(served_lab, store, variants=FIXTURE_VARIANTS, backend=None, seed: int = 3, items=None,
                 cached=None):
    """(demo, arena) for ``variants`` over ``store``, on a port the OS gives."""
    from persona_lab.arena.app import build_app
    from persona_lab.arena.battle import Arena
    from persona_lab.privacy import Scrubber
    from persona_lab.serve.guard import ReplyGuard
    from persona_lab.serve.local import LocalEngine
    from persona_lab.workspace.shapes import load_registry
    from tests.serve.conftest import free_port

    backend = backend or LocalEngine(load_registry(served_lab.paths))
    arena = Arena(backend, store, ReplyGuard(Scrubber(), None), list(variants), eval_items=items,
                  cached_replies=cached, params=GenerationParams(8, 0.7, 0.9, None), seed=seed)
    demo = build_app(arena, store)
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    return demo, arena


@pytest.fixture
def baseline_pages(served_lab, tmp_path):
    """A function of names -> the occurrences of each in the page, config and API info of an arena that
    serves none of them (same UI, other variants)."""
    from persona_lab.arena.app import build_app
    from persona_lab.arena.battle import Arena
    from persona_lab.workspace.votes import ArenaStore
    from tests.serve.conftest import free_port

    store = ArenaStore.for_path(tmp_path / "baseline.db")
    demo = build_app(Arena(None, store, None, ["qzx1", "qzx2"], params=GenerationParams(8, 0.7, 0.9, None)), store)
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        pages = fetch_pages(demo.local_url)
    finally:
        demo.close()
        store.close()
    return lambda names: {(path, name): shows(name, text) for path, text in pages.items() for name in names}


def page_counts(url: str, names) -> dict[tuple[str, str], int]:
    return {(path, name): shows(name, text) for path, text in fetch_pages(url).items() for name in names}


ITEMS = [EvalItem(f"e{i}", [{"role": "user", "content": f"周末打球吗 {i}"}], "可以的 稳了")
         for i in range(6)]
CACHED = {"chat72": {f"e{i}": f"clone reply {i}" for i in range(6)}}


@pytest.fixture
def arena_app(served_lab, tmp_path):
    """The arena over ["base", "chat", "chat72"] (seed 3: the first battle is chat against base) on SQLite."""
    from persona_lab.workspace.votes import ArenaStore

    store = ArenaStore.for_path(tmp_path / "arena.db")
    demo, _ = launch_arena(served_lab, store, items=ITEMS, cached=CACHED)
    yield demo, store
    demo.close()
    store.close()
