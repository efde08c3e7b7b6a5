"""The OpenAI-compatible API, driven by the official openai client against the tiny-model engine."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

HELLO = [{"role": "user", "content": "今天吃什么 hello"}]


def test_models_and_completions_for_every_variant(api_server, engine):
    from openai import OpenAI

    url, _ = api_server
    client = OpenAI(base_url=url, api_key="unused")
    assert [m.id for m in client.models.list()] == engine.variants()
    for variant in engine.variants():
        reply = client.chat.completions.create(model=variant, messages=HELLO, max_tokens=8, temperature=0)
        direct = engine.chat_batch([__import__("persona_lab.serve.backend", fromlist=["x"]).ChatRequest(
            variant, HELLO, __import__("persona_lab.serve.backend", fromlist=["x"]).GenerationParams(8, 0))])[0]
        assert reply.choices[0].message.content == direct.text  # nothing private in these, so the guard is a no-op
        assert reply.usage.completion_tokens == direct.completion_tokens


def test_streaming_matches_non_streaming(api_server):
    from openai import OpenAI

    url, _ = api_server
    client = OpenAI(base_url=url, api_key="unused")
    whole = client.chat.completions.create(model="chat72", messages=HELLO, max_tokens=12, temperature=0)
    chunks = client.chat.completions.create(model="chat72", messages=HELLO, max_tokens=12, temperature=0, stream=True)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == whole.choices[0].message.content


def test_concurrent_requests_are_batched_and_unchanged(api_server, engine):
    """21 requests arrive while the engine is busy: they must be decoded together (16 at a time, the rest
    joining as rows finish), with the same replies as one at a time. The engine is held busy by the test, not
    by timing: until every request has reached the engine, its one torch thread is blocked."""
    import threading
    import time

    from openai import OpenAI

    url, _ = api_server
    client = OpenAI(base_url=url, api_key="unused")
    variants = engine.variants() * 3
    ask = lambda v: client.chat.completions.create(model=v, messages=HELLO, max_tokens=6, temperature=0)
    sequential = {v: ask(v).choices[0].message.content for v in engine.variants()}
    assert engine.stats["largest_batch"] == 1
    release = threading.Event()
    engine._thread.submit(release.wait)  # the engine thread now waits for the test
    with ThreadPoolExecutor(len(variants)) as pool:
        pending = [pool.submit(ask, v) for v in variants]
        while len(engine._waiting) < len(variants):  # every request is waiting for the engine
            time.sleep(0.01)
        release.set()
        replies = [p.result() for p in pending]
    assert [r.choices[0].message.content for r in replies] == [sequential[v] for v in variants]
    assert engine.stats["largest_batch"] == 16  # max_batch rows decoded together


def test_a_request_joins_a_batch_that_is_decoding(api_server, engine):
    """A request sent while a long reply streams joins its batch at the next step (both rows in one batch)
    instead of waiting for it to end, and neither reply changes. The engine waits after its second step
    until the late request has arrived, so the test does not depend on timing."""
    import threading
    import time

    from openai import OpenAI

    url, _ = api_server
    client = OpenAI(base_url=url, api_key="unused")
    engine.stop_ids = set()  # both replies run to max_tokens: this test is about scheduling
    long_alone = client.chat.completions.create(model="chat", messages=HELLO, max_tokens=60, temperature=0)
    short_alone = client.chat.completions.create(model="blog", messages=HELLO, max_tokens=5, temperature=0)
    arrived, step = threading.Event(), engine._step

    def gated_step():
        step()
        if engine.stats["steps"] == steps_before + 2:
            assert arrived.wait(timeout=60), "the late request never reached the engine"

    submit = engine.submit

    def noting_submit(requests, on_text=None):
        future = submit(requests, on_text)
        if requests[0].variant == "blog":
            arrived.set()
        return future

    engine.submit = noting_submit
    steps_before = engine.stats["steps"]
    engine._step = gated_step
    with ThreadPoolExecutor(1) as pool:
        chunks = client.chat.completions.create(model="chat", messages=HELLO, max_tokens=60, temperature=0,
                                                stream=True)
        streamed = pool.submit(lambda: "".join(c.choices[0].delta.content or "" for c in chunks if c.choices))
        while engine.stats["steps"] == steps_before:  # the long reply is decoding (and cannot end: the gate)
            time.sleep(0.01)
        short = client.chat.completions.create(model="blog", messages=HELLO, max_tokens=5, temperature=0)
        long_text = streamed.result()
    assert short.choices[0].message.content == short_alone.choices[0].message.content
    assert long_text == long_alone.choices[0].message.content
    assert engine.stats["largest_batch"] == 2


@pytest.mark.parametrize("body, status, needle", [
    ({"model": "nobody", "messages": HELLO}, 404, "known variants: base"),
    ({"model": "chat", "messages": []}, 400, "messages is empty"),
    ({"model": "chat", "messages": HELLO, "max_tokens": -3}, 400, "max_tokens must be positive"),
    ({"model": "chat", "messages": HELLO, "max_tokens": 5000}, 400, "cap of 64"),
    ({"model": "chat"}, 400, "messages"),
])
def test_bad_requests_get_clear_errors(api_server, body, status, needle):
    url, _ = api_server
    response = httpx.post(f"{url}/chat/completions", json=body, timeout=30)
    assert response.status_code == status and needle in response.json()["error"]["message"]


def test_rate_limit(served_lab, engine):
    from fastapi.testclient import TestClient

    from persona_lab.serve.api import create_app

    client = TestClient(create_app(engine, None, rate_limit_per_min=2))
    body = {"model": "base", "messages": HELLO, "max_tokens": 2}
    codes = [client.post("/v1/chat/completions", json=body).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
