"""The README's config reference is generated from the pydantic models and must match them."""

from __future__ import annotations

from persona_lab.config import LabConfig
from persona_lab.config_reference import END, START, render
from tests.conftest import ROOT


def test_readme_config_reference_is_current():
    readme = (ROOT / "README.md").read_text("utf-8")
    assert START in readme and END in readme
    section = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert section == render().strip(), "README's config reference is stale: run `make docs`"


def test_reference_lists_every_key_of_every_settings_model():
    text = render()
    for name, field in LabConfig.model_fields.items():
        if not field.exclude:
            assert f"| `{name}` |" in text
    for key in ("`train.chat`", "`serve.vllm`", "`eval`", "`arena`"):
        assert f"#### {key}" in text
    for setting in ("eval_from", "report_samples", "gradient_checkpointing", "password_env", "normalize"):
        assert f"| `{setting}` |" in text
    assert "| `name` | string | **required** |" in text


def test_every_bundled_config_parses(monkeypatch):
    from persona_lab.config import load_config

    monkeypatch.delenv("PERSONA_LAB_FRIENDS", raising=False)
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        config = load_config(path)
        assert config.name and config.sources, path
    joey = load_config(ROOT / "configs" / "joey.yaml")
    assert str(joey.sources[0].path).endswith("shared/data/friends/friends_s01-s08.jsonl")
    monkeypatch.setenv("PERSONA_LAB_FRIENDS", "/data/friends.jsonl")
    assert str(load_config(ROOT / "configs" / "joey.yaml").sources[0].path) == "/data/friends.jsonl"
