from __future__ import annotations

import time
from pathlib import Path

import pytest

from persona_lab.train.base import CHATML_TEMPLATE, BaseModelError, resolve_base, training_template


def test_tiny_model_is_built_once_and_has_a_training_template():
    first = resolve_base("tiny-test")
    start = time.time()
    again = resolve_base("tiny-test")
    assert again.path == first.path and time.time() - start < 2.0  # cached, not rebuilt
    assert "{% generation %}" in first.chat_template and first.local


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
