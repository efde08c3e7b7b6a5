"""The backend a lab's config asks for, built from the variant registry, with the reply guard."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from persona_lab.config import ConfigError, LabConfig
from persona_lab.registries import ENGINES
from persona_lab.serve.backend import Backend, ChatRequest, ChatResult, OnText, with_system_prompt
from persona_lab.serve.guard import ReplyGuard
from persona_lab.serve.local import LocalEngine
from persona_lab.serve.openai_backend import OpenAIBackend
from persona_lab.serve.retrieval import with_retrieval
from persona_lab.workspace.shapes import load_registry


class PromptedOverOpenAI:
    """Wraps an OpenAI-compatible backend so that ``prompted`` is the base model with the persona
    system prompt, and ``base`` maps to the served base model."""

    def __init__(self, inner: OpenAIBackend, registry: dict[str, Any]) -> None:
        self.inner = inner
        self.prompts = {v["name"]: v["system_prompt"] for v in registry["variants"] if v["kind"] == "prompted"}

    def variants(self) -> list[str]:
        return self.inner.variants()

    def submit(self, requests: list[ChatRequest], on_text: OnText | None = None) -> Future:
        return self.inner.submit([self._prompted(r) for r in requests], on_text)

    def chat_batch(self, requests: list[ChatRequest]) -> list[ChatResult]:
        return self.submit(requests).result()

    def sequence_logprobs(self, variant: str, messages: list[dict[str, str]],
                          continuations: list[str]) -> list[float] | None:
        return self.inner.sequence_logprobs(variant, self._prompted(ChatRequest(variant, messages)).messages,
                                            continuations)

    def _prompted(self, request: ChatRequest) -> ChatRequest:
        if request.variant not in self.prompts:
            return request
        return ChatRequest(request.variant, with_system_prompt(request.messages, self.prompts[request.variant]),
                           request.params)


def model_variants(registry: dict[str, Any]) -> list[str]:
    """The variants a model server answers for (not the retrieval lookup, which runs in front of it)."""
    return [v["name"] for v in registry["variants"] if v["kind"] != "retrieval"]


def make_backend(config: LabConfig, *, engine: str | None = None, url: str | None = None) -> Backend:
    """The backend ``engine`` (default ``serve.engine``) names in persona_lab/registries.py's ENGINES, with the
    retrieval variant answered in this process whatever the engine (no server can run a lookup)."""
    registry = load_registry(config.paths)
    return with_retrieval(ENGINES.get(engine or config.serve.engine)(config, registry, url), registry)


def local_backend(config: LabConfig, registry: dict[str, Any], url: str | None = None) -> Backend:
    """The embedded engine: every variant on one loaded base, in this process."""
    return LocalEngine(registry, max_batch=config.serve.max_batch)


def openai_backend(config: LabConfig, registry: dict[str, Any], url: str | None = None) -> Backend:
    """A client of any OpenAI-compatible server (serve.openai: base_url, model names)."""
    settings = config.serve.openai
    if settings is None and url is None:
        raise ConfigError("serve.engine is 'openai' but serve.openai.base_url is not set",
                          hint="set serve.openai.base_url (and serve.openai.models) in the config")
    names = model_variants(registry)
    backend = OpenAIBackend(url or settings.base_url, names, models=settings.models if settings else {},
                            timeout_s=settings.timeout_s if settings else 120)
    return PromptedOverOpenAI(backend, registry)


def vllm_backend(config: LabConfig, registry: dict[str, Any], url: str | None = None) -> Backend:
    """A client of `persona-lab serve --engine vllm`: prompted goes to the served base with its system prompt."""
    names = model_variants(registry)
    backend = OpenAIBackend(url or f"http://{config.serve.host}:{config.serve.port}/v1", names,
                            models={v["name"]: "base" for v in registry["variants"] if v["kind"] == "prompted"})
    return PromptedOverOpenAI(backend, registry)


def make_guard(config: LabConfig, enabled: bool | None = None) -> ReplyGuard:
    return ReplyGuard.for_lab(config.paths, config.privacy.extra_names, config.privacy.blocked_words,
                              enabled=config.serve.guard if enabled is None else enabled, mode=config.privacy.mode)
