"""Every name a config can hold is checked against its registry when the config loads, and every registry
entry resolves to a real object (a typo in a lazy "module:object" string fails here, not mid-run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from persona_lab.config import ConfigError, parse_config
from persona_lab.registries import COMPOSITE_METRICS, ENGINES, IMPORTERS, MERGE_METHODS, METRICS


@pytest.mark.parametrize("registry", [IMPORTERS, METRICS, MERGE_METHODS, ENGINES], ids=lambda r: r.kind)
def test_every_entry_resolves(registry):
    for name in registry.names():
        entry = registry.get(name)
        assert getattr(entry, "name", name) == name or callable(entry)


def test_the_composite_weighs_registered_metrics_only():
    assert set(COMPOSITE_METRICS) <= set(METRICS.names())


@pytest.mark.parametrize(("section", "message"), [
    ({"sources": [{"path": "x", "format": "wechat"}]}, "Unknown importer 'wechat'. Available: dialogue-jsonl"),
    ({"blends": [{"name": "b1", "weights": {"chat": 1}, "method": "slerp"}]},
     "Unknown merge method 'slerp'. Available: cat, dare_ties, linear, svd, ties"),
    ({"serve": {"engine": "llamacpp"}}, "Unknown engine 'llamacpp'. Available: local, openai, vllm"),
    ({"eval": {"weights": {"rouge_l": 1}}}, "unknown metric(s) rouge_l; the composite's are authorship"),
])
def test_an_unknown_name_fails_when_the_config_loads_with_the_known_names(section, message):
    with pytest.raises(ConfigError) as info:
        parse_config({"name": "t", **section}, Path("/labs/t.yaml"))
    assert message in str(info.value) and "/labs/t.yaml" in str(info.value)


def test_known_names_load():
    config = parse_config({"name": "t", "sources": [{"path": "x", "format": "telegram"}],
                           "blends": [{"name": "b1", "weights": {"chat": 1}, "method": "svd"}],
                           "serve": {"engine": "vllm"}}, Path("/labs/t.yaml"))
    assert config.blends[0].method == "svd" and config.serve.engine == "vllm"
