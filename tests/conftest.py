"""Shared test helpers. Third-party data lives in ../shared/data and is read from there, never copied."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from persona_lab.config import parse_config

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = Path(os.environ.get("PERSONA_LAB_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_file(relative: str) -> Path:
    """A file from ../shared/data, or skip the test with the reason when it is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"third-party data not present: {path} (set PERSONA_LAB_SHARED_DATA to its folder)")
    return path


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


REPLIES = ["可以的", "卧槽 真的假的", "ok ok", "稳了", "哈哈哈哈 绝了", "明天再说", "行吧", "收到"]


def write_samples(path: Path, n: int, source: str = "chat") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            messages = [{"role": "system", "content": "You are 阿澈, chatting with a friend."},
                        {"role": "user", "content": f"第{i}个问题 吃了吗"},
                        {"role": "assistant", "content": REPLIES[i % len(REPLIES)]}]
            handle.write(json.dumps({"id": f"s{i}", "source": source, "messages": messages}, ensure_ascii=False) + "\n")


@pytest.fixture
def tiny_lab(tmp_path: Path):
    """A lab on tiny-test with small synthetic chat and blog training files."""
    write_samples(tmp_path / "ws" / "data" / "chat_train.jsonl", 24)
    write_samples(tmp_path / "ws" / "data" / "blog_train.jsonl", 12, "blog")
    with (tmp_path / "ws" / "data" / "messages.jsonl").open("w", encoding="utf-8") as handle:
        for i in range(30):
            text = REPLIES[i % len(REPLIES)] if i % 2 else "吃了吗 在干嘛"
            handle.write(json.dumps({"is_me": bool(i % 2), "text": text}, ensure_ascii=False) + "\n")
    raw = {"name": "tiny", "me": ["阿澈"], "base_model": "tiny-test", "workspace": str(tmp_path / "ws"),
           "train": {"chat": {"max_steps": 6, "save_steps": 2, "batch_size": 4, "lr": 0.01},
                     "blog": {"max_steps": 4, "save_steps": 2, "batch_size": 4, "lr": 0.01, "rank": 4}}}
    return parse_config(raw, tmp_path / "tiny.yaml")


def fake_trained_adapter(config, source: str, rank: int, seed: int, steps=(3, 6)) -> None:
    """A saved adapter with random A and B (non-zero deltas), laid out like a training run."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from persona_lab.train.base import resolve_base

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(resolve_base("tiny-test").path)
    lora = LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=["q_proj", "v_proj", "down_proj"],
                      init_lora_weights=False, task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, lora)
    run = config.workspace_dir / "adapters" / source
    for step in steps:
        peft_model.save_pretrained(run / f"checkpoint-{step}")
        with torch.no_grad():  # later checkpoints differ from earlier ones
            for name, param in peft_model.named_parameters():
                if "lora_B" in name:
                    param.mul_(1.5)
    peft_model.save_pretrained(run / "final")
    manifest = {"final": str(run / "final"), "steps": steps[-1], "rank": rank, "alpha": 2 * rank,
                "checkpoints": {str(s): str(run / f"checkpoint-{s}") for s in steps},
                "inputs": {"data": "x"}, "created": "now"}
    (run / "manifest.json").write_text(json.dumps(manifest), "utf-8")


@pytest.fixture
def served_lab(tiny_lab):
    """The tiny lab with random (non-zero) chat and blog adapters, the default blends and a registry."""
    from persona_lab.blend.stage import run_blend

    fake_trained_adapter(tiny_lab, "chat", rank=4, seed=1)
    fake_trained_adapter(tiny_lab, "blog", rank=2, seed=2)
    run_blend(tiny_lab)
    return tiny_lab
