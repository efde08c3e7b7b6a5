from __future__ import annotations

import socket
import threading
import time

import pytest


@pytest.fixture
def engine(served_lab):
    from persona_lab.serve.local import LocalEngine
    from persona_lab.workspace.shapes import load_registry

    return LocalEngine(load_registry(served_lab.paths), max_batch=16)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def api_server(engine, served_lab):
    """The OpenAI-compatible API on 127.0.0.1 in a thread; yields (base_url, app)."""
    import uvicorn

    from persona_lab.serve.api import create_app
    from persona_lab.serve.factory import make_guard

    app = create_app(engine, make_guard(served_lab), max_tokens_cap=64, rate_limit_per_min=1000)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:  # no clock: a server that never starts ends in pytest's timeout
        assert thread.is_alive(), "the API server thread died before it started"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1", app
    server.should_exit = True
    thread.join(timeout=10)
