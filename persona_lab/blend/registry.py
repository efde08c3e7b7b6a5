"""The variant registry, ``results/<lab>/variants.json``: every servable variant and its lineage.

Serving, the arena and the evaluation read this file and nothing else to know what exists:
  base      the untouched base model
  prompted  the base with a persona system prompt (my distinctive words and a few real replies from the
            training split): the "ask a model to play me" baseline, which imitates without retraining
  retrieval the reply I actually gave to the most similar past context of the training split (no model:
            serve/retrieval.py): the "copy me" baseline every trained variant must beat
  chat/blog the source adapters
  <tuned>   preference-tuned adapters (`persona-lab tune`): kind "adapter" with ``tuned_from``/``method``
  <blends>  weighted blends of the adapters
The file is replaced atomically, so a reader never sees a half-written registry.
"""

from __future__ import annotations

import random
import time
from typing import Any

from persona_lab.basemodel import resolve_base
from persona_lab.config import LabConfig
from persona_lab.hashing import file_hash
from persona_lab.serve.retrieval import read_memories
from persona_lab.text import distinctive_terms, percentile
from persona_lab.workspace import SOURCES
from persona_lab.workspace.files import read_json
from persona_lab.workspace.shapes import (
    iter_training_samples,
    my_reply,
    tuned_variant_entries,
    write_registry_file,
)


def persona_prompt(config: LabConfig, examples: int = 8) -> str:
    """A system prompt that describes me from my own training data (never the held-out replies)."""
    me = config.persona_name or (config.me[0] if config.me else "the person")
    replies = []
    for _, row in iter_training_samples(config.paths.chat_train):
        reply = my_reply(row)
        if reply is not None and not row.get("canary") and "[" not in reply and 2 <= len(reply) <= 80:
            replies.append(reply)
    lengths = sorted(len(r) for r in replies)
    messages = config.paths.messages
    terms = [t for t, z, _ in distinctive_terms(messages, 50_000, top=40) if z > 0][:15] if messages.exists() else []
    rng = random.Random(config.seed)
    chosen = rng.sample(replies, min(examples, len(replies)))
    lines = [
        f"You are {me}. You are not an assistant: you are {me}, chatting in your own voice.",
        f"Keep replies short, like your real ones (median {percentile(lengths, 0.5):.0f} characters).",
    ]
    if terms:
        lines.append("Words and phrases you use a lot: " + ", ".join(terms) + ".")
    if chosen:
        lines.append("Some of your real replies:")
        lines += [f"- {reply}" for reply in chosen]
    return "\n".join(lines)


def adapter_entry(config: LabConfig, source: str) -> dict[str, Any] | None:
    manifest_path = config.paths.adapter_manifest(source)
    if not manifest_path.exists():
        return None
    manifest = read_json(manifest_path)
    return {
        "name": source, "kind": "adapter", "path": manifest["final"], "source": source, "rank": manifest["rank"],
        "alpha": manifest["alpha"], "steps": manifest["steps"], "checkpoints": manifest["checkpoints"],
        "data_hash": manifest["inputs"]["data"], "created": manifest["created"], "quick": manifest.get("quick", False),
    }


def retrieval_entry(config: LabConfig) -> dict[str, Any]:
    """The retrieval variant: it reads the training split, never data/chat_eval.jsonl."""
    path = config.paths.chat_train
    return {"name": "retrieval", "kind": "retrieval", "path": str(path), "method": "bm25s (lucene, k1 1.5, b 0.75)",
            "data_hash": file_hash(path), "replies": len(read_memories(path))}


def blend_entries(config: LabConfig) -> list[dict[str, Any]]:
    """The config's blends as built (their manifests on disk), then the blend search's ``auto`` if it ran."""
    manifests = [config.paths.blend(spec.name) / "blend_manifest.json" for spec in config.blends]
    if config.search.enabled:
        manifests.append(config.paths.search_auto / "blend_manifest.json")
    return [read_json(path) for path in manifests if path.exists()]


def write_registry(config: LabConfig, blends: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """variants.json rebuilt from what is on disk (``blends``: these entries instead of the built blends').
    A rebuild with the same variants keeps its ``updated`` time, so rewriting it changes nothing."""
    base = resolve_base(config.base_model, config.chat_template)
    variants: list[dict[str, Any]] = [
        {"name": "base", "kind": "base", "path": base.path},
        {"name": "prompted", "kind": "prompted", "path": base.path, "system_prompt": persona_prompt(config)},
    ]
    if config.paths.chat_train.exists():
        variants.append(retrieval_entry(config))
    for source in SOURCES:
        entry = adapter_entry(config, source)
        if entry:
            variants.append(entry)
    variants += tuned_variant_entries(config.paths)  # tuned adapters on disk (tune also registers its own at once)
    variants += blend_entries(config) if blends is None else blends
    registry = {
        "lab": config.name, "base_model": config.base_model, "base_path": base.path,
        "chat_template": base.chat_template, "variants": variants,
        "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path = config.paths.variants
    if path.exists():
        previous = read_json(path)
        if {**previous, "updated": None} == {**registry, "updated": None}:
            return previous
    write_registry_file(config.paths, registry)
    return registry
