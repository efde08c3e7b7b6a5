"""Serving: one backend interface over the local engine, vLLM multi-LoRA, or any OpenAI-compatible URL;
the OpenAI-compatible HTTP API of the local engine; and the reply guard every reply passes through."""
