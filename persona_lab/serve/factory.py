"""The backend a lab's config asks for, built from the variant registry, with the reply guard."""

from __future__ import annotations

from typing import Any

from persona_lab.config import LabConfig


class PromptedOverOpenAI:
    """Wraps an OpenAI-compatible backend so that ``prompted`` is the base model with the persona
    system prompt, and ``base`` maps to the served base model."""

    def __init__(self, inner, registry: dict[str, Any]) -> None:
        self.inner = inner
        self.prompts = {v["name"]: v["system_prompt"] for v in registry["variants"] if v["kind"] == "prompted"}

    def variants(self) -> list[str]:
        return self.inner.variants()

    def _messages(self, variant: str, messages: list[dict]) -> list[dict]:
        from persona_lab.serve.backend import with_system_prompt

        return with_system_prompt(messages, self.prompts[variant]) if variant in self.prompts else messages

    def chat(self, variant, messages, **kwargs):
        return self.inner.chat(variant, self._messages(variant, messages), **kwargs)

    def chat_batch(self, requests):
        from persona_lab.serve.backend import ChatRequest

        return self.inner.chat_batch([ChatRequest(r.variant, self._messages(r.variant, r.messages), r.params)
                                      for r in requests])


def make_backend(config: LabConfig, *, engine: str | None = None, url: str | None = None):
    """local: the embedded engine; vllm/openai: a client of a running OpenAI-compatible server."""
    from persona_lab.blend.registry import load_registry

    registry = load_registry(config)
    engine = engine or config.serve.engine
    names = [v["name"] for v in registry["variants"]]
    if engine == "local":
        from persona_lab.serve.local import LocalEngine

        return LocalEngine(registry, max_batch=config.serve.max_batch)
    from persona_lab.serve.openai_backend import OpenAIBackend

    if engine == "openai":
        if config.serve.openai is None and url is None:
            raise ValueError("serve.engine is 'openai' but serve.openai.base_url is not set")
        settings = config.serve.openai
        backend = OpenAIBackend(url or settings.base_url, names, models=settings.models if settings else {},
                                timeout_s=settings.timeout_s if settings else 120)
    else:  # vllm: prompted goes to the served base ("base") with its system prompt
        backend = OpenAIBackend(url or f"http://{config.serve.host}:{config.serve.port}/v1", names,
                                models={v["name"]: "base" for v in registry["variants"] if v["kind"] == "prompted"})
    return PromptedOverOpenAI(backend, registry)


def make_guard(config: LabConfig, enabled: bool | None = None):
    from persona_lab.serve.guard import ReplyGuard

    return ReplyGuard.for_lab(config.workspace_dir, config.privacy.extra_names, config.privacy.blocked_words,
                              enabled=config.serve.guard if enabled is None else enabled, mode=config.privacy.mode)
