from __future__ import annotations

import pytest


@pytest.fixture
def arena_app(served_lab, tmp_path):
    from persona_lab.arena.app import build_app
    from persona_lab.arena.battle import Arena
    from persona_lab.arena.store import ArenaStore
    from persona_lab.blend.registry import load_registry
    from persona_lab.privacy import Scrubber
    from persona_lab.serve.guard import ReplyGuard
    from persona_lab.serve.local import LocalEngine
    from tests.serve.conftest import free_port

    engine = LocalEngine(load_registry(served_lab))
    items = [{"id": f"e{i}", "context": [{"role": "user", "content": f"周末打球吗 {i}"}], "reply": "可以的 稳了"}
             for i in range(6)]
    cached = {"chat72": {f"e{i}": f"clone reply {i}" for i in range(6)}}
    store = ArenaStore.for_path(tmp_path / "arena.db")
    arena = Arena(engine, store, ReplyGuard(Scrubber(), None), ["base", "chat", "chat72"], eval_items=items,
                  cached_replies=cached, max_tokens=8, seed=3)
    demo = build_app(arena, store)
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield demo, store
    demo.close()
