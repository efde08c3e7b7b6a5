"""The OpenAI-compatible backend implements the whole Backend protocol, over the local engine's own HTTP API:
a streamed submission gives the same text as a plain one, every request of a submission is answered in
order, refusals happen before anything is sent, and it says plainly that it cannot score given text."""

from __future__ import annotations

import pytest

from persona_lab.serve.backend import (
    BadRequestError,
    ChatRequest,
    GenerationParams,
    Stream,
    UnknownVariantError,
)
from persona_lab.serve.factory import PromptedOverOpenAI
from persona_lab.serve.openai_backend import OpenAIBackend

HELLO = [{"role": "user", "content": "周末打球吗"}]
GREEDY = GenerationParams(max_tokens=10, temperature=0)


def test_submit_streams_and_answers_in_order(api_server, engine):
    url, _ = api_server
    backend = OpenAIBackend(url, engine.variants())
    for variant in ("chat72", "base"):  # one request in flight at a time: the same batch of one every time
        request = ChatRequest(variant, HELLO, GREEDY)
        (plain,) = backend.chat_batch([request])
        assert plain.text == engine.chat_batch([request])[0].text  # the server answers as the engine does
        stream = Stream(backend, [request])
        assert "".join(text for _, text in stream) == plain.text == stream.results[0].text
    # several at once (the server batches them): each result is its own request's, in order
    lengths = (3, 9, 5)
    results = backend.chat_batch([ChatRequest("chat", HELLO, GenerationParams(n, 0)) for n in lengths])
    assert [r.completion_tokens for r in results] == list(lengths)  # random weights never stop early
    assert backend.sequence_logprobs("chat", HELLO, ["好"]) is None


def test_refusals_come_before_anything_is_sent(engine):
    backend = OpenAIBackend("http://127.0.0.1:9/v1", engine.variants())  # nothing listens: a send would fail
    with pytest.raises(UnknownVariantError, match="known variants"):
        backend.submit([ChatRequest("nobody", HELLO, GREEDY)])
    with pytest.raises(BadRequestError, match="messages is empty"):
        backend.submit([ChatRequest("chat", [], GREEDY)])


def test_prompted_wrapper_sends_the_persona_prompt(api_server, engine, served_lab):
    from persona_lab.workspace.shapes import load_registry

    url, _ = api_server
    registry = load_registry(served_lab.paths)
    wrapped = PromptedOverOpenAI(OpenAIBackend(url, engine.variants(), models={"prompted": "base"}), registry)
    (answer,) = wrapped.chat_batch([ChatRequest("prompted", HELLO, GREEDY)])
    # the local engine's own prompted variant adds the same system line itself
    assert answer.text == engine.chat_batch([ChatRequest("prompted", HELLO, GREEDY)])[0].text
