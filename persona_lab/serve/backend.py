"""The one interface the arena and the evaluation use to reach any variant, whatever runs it.

``chat(variant, messages, ...)`` yields text pieces (one piece when not streaming); ``chat_batch`` answers
many (variant, messages) requests at once, which is where batching engines earn their speed.
"""

from __future__ import annotations

from collections.abc import Iterator
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


class Backend(Protocol):
    def variants(self) -> list[str]: ...

    def chat(self, variant: str, messages: list[dict[str, str]], *, max_tokens: int = 128,
             temperature: float = 0.7, top_p: float = 0.95, seed: int | None = None,
             stream: bool = False) -> Iterator[str]: ...

    def chat_batch(self, requests: list[ChatRequest]) -> list[ChatResult]: ...
