"""The one interface the arena, the evaluation and the HTTP API use to reach any variant, whatever runs it.

Every engine (the local engine, an OpenAI-compatible server, the prompted wrapper over one) implements all of
``Backend``, so no caller asks ``hasattr``: ``submit`` refuses a bad request at once (unknown variant, bad
messages or parameters, a context the window cannot hold), else queues the requests and returns a future
of their results while ``on_text`` receives text as it is decoded, ``chat_batch`` waits for them, and
``sequence_logprobs`` scores given continuations, or returns None where an engine cannot (an HTTP server).
``Stream`` is the one way to read a submission as it streams (the arena, the HTTP API).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol

from persona_lab.errors import PersonaLabError


class ServeError(PersonaLabError):
    """Base class; ``status`` is the HTTP status the API answers with."""

    status = 500


class UnknownVariantError(ServeError):
    status = 404

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown variant {name!r}; known variants: {', '.join(known)}")
        self.known = known


class BadRequestError(ServeError):
    status = 400


@dataclass
class GenerationParams:
    max_tokens: int = 128
    temperature: float = 0.7
    top_p: float = 0.95
    seed: int | None = None

    def check(self) -> None:
        if self.max_tokens <= 0:
            raise BadRequestError(f"max_tokens must be positive, got {self.max_tokens}")
        if self.temperature < 0:
            raise BadRequestError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise BadRequestError(f"top_p must be in (0, 1], got {self.top_p}")


@dataclass
class ChatRequest:
    variant: str
    messages: list[dict[str, str]]
    params: GenerationParams = field(default_factory=GenerationParams)


@dataclass
class ChatResult:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"  # "stop" or "length"
    token_ids: list[int] = field(default_factory=list)


def with_system_prompt(messages: list[dict[str, str]], prompt: str) -> list[dict[str, str]]:
    """A copy of ``messages`` with ``prompt`` first in the system line (the ``prompted`` variant)."""
    messages = [dict(m) for m in messages]
    if messages and messages[0]["role"] == "system":
        messages[0]["content"] = prompt + "\n" + messages[0]["content"]
    else:
        messages.insert(0, {"role": "system", "content": prompt})
    return messages


def check_messages(messages: list[dict]) -> None:
    if not messages:
        raise BadRequestError("messages is empty: send at least one message")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant"):
            raise BadRequestError(f"messages[{i}]: role must be system, user or assistant")
        if not isinstance(message.get("content"), str):
            raise BadRequestError(f"messages[{i}]: content must be a string")


OnText = Callable[[int, str], None]  # (index of the request in its submission, text decoded since the last call)


class Backend(Protocol):
    def variants(self) -> list[str]: ...

    def submit(self, requests: list[ChatRequest], on_text: OnText | None = None) -> Future:
        """Queue ``requests``; the future's result is their ChatResults in order (or the backend's error).
        A request the backend refuses (UnknownVariantError, BadRequestError) raises here, before anything
        is queued or sent."""

    def chat_batch(self, requests: list[ChatRequest]) -> list[ChatResult]: ...

    def sequence_logprobs(self, variant: str, messages: list[dict[str, str]],
                          continuations: list[str]) -> list[float] | None:
        """Log-probability of each continuation as ``variant``'s reply, or None when the engine cannot say."""


_END = object()


class Stream:
    """A submission read as it decodes: iterating gives (request index, new text); the backend's error is
    raised there, in the reading thread, after the text that came before it; ``results`` once it is done."""

    def __init__(self, backend: Backend, requests: list[ChatRequest]) -> None:
        self._pieces: queue.Queue = queue.Queue()
        self.future = backend.submit(requests, on_text=lambda index, text: self._pieces.put((index, text)))
        self.future.add_done_callback(lambda _: self._pieces.put(_END))

    def __iter__(self) -> Iterator[tuple[int, str]]:
        while (item := self._pieces.get()) is not _END:
            yield item
        self.future.result()

    @property
    def results(self) -> list[ChatResult]:
        return self.future.result()


def stream_results(backend: Backend, requests: list[ChatRequest]) -> Iterator[tuple[int, str]]:
    """(request index, new text) as ``backend`` decodes ``requests`` (see ``Stream``)."""
    return iter(Stream(backend, requests))


def gather(futures: list[Future]) -> Future:
    """One future for many: their results in order, or the first error."""
    combined: Future = Future()
    if not futures:
        combined.set_result([])
        return combined
    remaining = [len(futures)]
    lock = threading.Lock()  # done callbacks run on the worker threads that finish the futures

    def done(_: Future) -> None:
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            errors = [f.exception() for f in futures if f.exception() is not None]
            if errors:
                combined.set_exception(errors[0])
            else:
                combined.set_result([f.result() for f in futures])

    for future in futures:
        future.add_done_callback(done)
    return combined
