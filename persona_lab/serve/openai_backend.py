"""A backend over any OpenAI-compatible server: a vLLM already running, llama.cpp's server, a hosted API.

Variant names map to the server's model names through ``serve.openai.models`` (a vLLM multi-LoRA
server names each adapter after its variant, so the map is usually empty). A submission is sent as
concurrent requests (``concurrency`` at a time), which a batching server turns into one batch; with
``on_text`` each request streams (SSE) and its text is handed over as it arrives.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor

from persona_lab.serve.backend import (
    ChatRequest,
    ChatResult,
    OnText,
    UnknownVariantError,
    check_messages,
    gather,
)


class OpenAIBackend:
    def __init__(self, base_url: str, variants: list[str], *, models: dict[str, str] | None = None,
                 api_key: str | None = None, timeout_s: float = 120, concurrency: int = 16,
                 max_retries: int = 1) -> None:
        from openai import OpenAI  # ~0.3 s: only when a lab talks to a server

        self.client = OpenAI(base_url=base_url, api_key=api_key or "EMPTY", timeout=timeout_s,
                             max_retries=max_retries)
        self.names = list(variants)
        self.models = models or {}
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="persona-lab-openai")

    @classmethod
    def from_settings(cls, settings, variants: list[str]) -> OpenAIBackend:
        key = os.environ.get(settings.api_key_env) if settings.api_key_env else None
        return cls(settings.base_url, variants, models=settings.models, api_key=key, timeout_s=settings.timeout_s)

    def variants(self) -> list[str]:
        return list(self.names)

    def _check(self, request: ChatRequest) -> None:
        self._model(request.variant)
        check_messages(request.messages)
        request.params.check()

    def submit(self, requests: list[ChatRequest], on_text: OnText | None = None) -> Future:
        for request in requests:
            self._check(request)
        return gather([self.pool.submit(self._one, request, index, on_text) for index, request in enumerate(requests)])

    def chat_batch(self, requests: list[ChatRequest]) -> list[ChatResult]:
        return self.submit(requests).result()

    def sequence_logprobs(self, variant: str, messages: list[dict[str, str]],
                          continuations: list[str]) -> list[float] | None:
        return None  # the chat completions API scores what the model samples, not a given continuation

    def _model(self, variant: str) -> str:
        if variant not in self.names:
            raise UnknownVariantError(variant, self.names)
        return self.models.get(variant, variant)

    def _one(self, request: ChatRequest, index: int, on_text: OnText | None) -> ChatResult:
        p = request.params
        kwargs = {"model": self._model(request.variant), "messages": request.messages, "max_tokens": p.max_tokens,
                  "temperature": p.temperature, "top_p": p.top_p, "seed": p.seed}
        if on_text is None:
            response = self.client.chat.completions.create(**kwargs)
            choice, usage = response.choices[0], response.usage
            return ChatResult(choice.message.content or "", usage.prompt_tokens if usage else 0,
                              usage.completion_tokens if usage else 0, choice.finish_reason or "stop")
        text, reason = "", "stop"
        for event in self.client.chat.completions.create(stream=True, **kwargs):
            if event.choices and event.choices[0].delta.content:
                text += event.choices[0].delta.content
                on_text(index, event.choices[0].delta.content)
            if event.choices and event.choices[0].finish_reason:
                reason = event.choices[0].finish_reason
        return ChatResult(text, finish_reason=reason)
