"""Every plural thing a config can name, in one place: importers, metrics, merge methods, engines.

Entries are lazy ``"module:object"`` strings (persona_lab/registry.py), so the config can check a name the
moment it loads (``Unknown importer 'x'. Available: a, b, c``) without importing a stage: the object is
imported on first ``get``, by the stage that uses it. Adding an importer, metric, merge method or engine is
one line here plus its module.
"""

from __future__ import annotations

from typing import Any

from persona_lab.registry import Registry

IMPORTERS: Registry[Any] = Registry("importer")
IMPORTERS.register("wechat-pywxdump", "persona_lab.ingest.importers.wechat_pywxdump:IMPORTER")
IMPORTERS.register("wechat-memotrace", "persona_lab.ingest.importers.wechat_memotrace:IMPORTER")
IMPORTERS.register("telegram", "persona_lab.ingest.importers.telegram:IMPORTER")
IMPORTERS.register("whatsapp", "persona_lab.ingest.importers.whatsapp:IMPORTER")
IMPORTERS.register("qq", "persona_lab.ingest.importers.qq:IMPORTER")
IMPORTERS.register("dialogue-jsonl", "persona_lab.ingest.importers.jsonl:DIALOGUE")
IMPORTERS.register("lines-jsonl", "persona_lab.ingest.importers.jsonl:LINES")

METRICS: Registry[Any] = Registry("metric")
METRICS.register("authorship", "persona_lab.evaluate.metrics.voice:Authorship")
METRICS.register("typicality", "persona_lab.evaluate.metrics.voice:Typicality")
METRICS.register("style", "persona_lab.evaluate.metrics.voice:Style")
METRICS.register("context", "persona_lab.evaluate.metrics.context:ContextFit")
METRICS.register("failures", "persona_lab.evaluate.metrics.failures:FailureModes")
METRICS.register("rouge_l", "persona_lab.evaluate.metrics.context:RougeGain")
METRICS.register("embedding_sim", "persona_lab.evaluate.metrics.context:EmbeddingGain")
METRICS.register("privacy", "persona_lab.evaluate.metrics.failures:PrivateLookalikes")
# The metrics the composite weighs (the others gate it or are reported beside it).
COMPOSITE_METRICS = ("authorship", "typicality", "style", "context")

MERGE_METHODS: Registry[Any] = Registry("merge method")
for _name in ("cat", "svd", "linear", "ties", "dare_ties"):
    MERGE_METHODS.register(_name, f"persona_lab.blend.merge:{_name.upper()}")

ENGINES: Registry[Any] = Registry("engine")
ENGINES.register("local", "persona_lab.serve.factory:local_backend")
ENGINES.register("vllm", "persona_lab.serve.factory:vllm_backend")
ENGINES.register("openai", "persona_lab.serve.factory:openai_backend")


def check_name(registry: Registry[Any], name: str) -> str:
    """``name`` if ``registry`` has it, else ValueError with the known names (pydantic reports it with the key)."""
    if name not in registry:
        raise ValueError(f"Unknown {registry.kind} {name!r}. Available: {', '.join(registry.names())}")
    return name
