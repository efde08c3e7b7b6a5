"""A backend over any OpenAI-compatible server: a vLLM already running, llama.cpp's server, a hosted API.

Variant names map to the server's model names through ``serve.openai.models`` (a vLLM multi-LoRA
server names each adapter after its variant, so the map is usually empty). Batches are sent as
concurrent requests, which a batching server turns into one batch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from persona_lab.serve.backend import (
    ChatRequest,
    ChatResult,
    GenerationParams,
    UnknownVariantError,
    check_messages,
)


class OpenAIBackend:
    def __init__(self, base_url: str, variants: list[str], *, models: dict[str, str] | None = None,
                 api_key: str | None = None, timeout_s: float = 120, concurrency: int = 16,
                 max_retries: int = 1) -> None:
        from openai import OpenAI

        self.client = OpenAI(base_url=base_url, api_key=api_key or "EMPTY", timeout=timeout_s,
                             max_retries=max_retries)
        self.names = list(variants)
        self.models = models or {}
        self.concurrency = concurrency

    @classmethod
    def from_settings(cls, settings, variants: list[str]) -> OpenAIBackend:
        key = os.environ.get(settings.api_key_env) if settings.api_key_env else None
        return cls(settings.base_url, variants, models=settings.models, api_key=key, timeout_s=settings.timeout_s)

    def variants(self) -> list[str]:
        return list(self.names)

    def _model(self, variant: str) -> str:
        if variant not in self.names:
            raise UnknownVariantError(variant, self.names)
        return self.models.get(variant, variant)

    def chat(self, variant: str, messages: list[dict[str, str]], *, max_tokens: int = 128,
             temperature: float = 0.7, top_p: float = 0.95, seed: int | None = None,
             stream: bool = False) -> Iterator[str]:
        check_messages(messages)
        params = GenerationParams(max_tokens, temperature, top_p, seed)
        params.check()
        kwargs = {"model": self._model(variant), "messages": messages, "max_tokens": max_tokens,
                  "temperature": temperature, "top_p": top_p, "seed": seed}
        if not stream:
            yield self.client.chat.completions.create(**kwargs).choices[0].message.content or ""
            return
        for event in self.client.chat.completions.create(stream=True, **kwargs):
            if event.choices and event.choices[0].delta.content:
                yield event.choices[0].delta.content

    def _one(self, request: ChatRequest) -> ChatResult:
        p = request.params
        response = self.client.chat.completions.create(
            model=self._model(request.variant), messages=request.messages, max_tokens=p.max_tokens,
            temperature=p.temperature, top_p=p.top_p, seed=p.seed)
        choice = response.choices[0]
        usage = response.usage
        return ChatResult(choice.message.content or "", usage.prompt_tokens if usage else 0,
                          usage.completion_tokens if usage else 0, choice.finish_reason or "stop")

    def chat_batch(self, requests: list[ChatRequest]) -> list[ChatResult]:
        for request in requests:
            self._model(request.variant)
            check_messages(request.messages)
            request.params.check()
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self._one, requests))
