"""Blends on the tiny model: the cat blend is the exact weighted sum of the parents' deltas, reloading it
reproduces its logits, and bad blends fail before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from persona_lab.basemodel import resolve_base
from persona_lab.blend.merge import BlendError, blend_weights, build_all, load_parents
from persona_lab.blend.stage import run_blend
from persona_lab.config import BlendSpec
from persona_lab.workspace.shapes import load_registry
from tests.conftest import fake_trained_adapter


@pytest.fixture
def lab(tiny_lab):
    fake_trained_adapter(tiny_lab, "chat", rank=4, seed=1)
    fake_trained_adapter(tiny_lab, "blog", rank=2, seed=2)
    return tiny_lab


def deltas(peft_model, adapter: str) -> dict[str, torch.Tensor]:
    from peft.tuners.lora import LoraLayer

    return {name: module.get_delta_weight(adapter).detach().clone()
            for name, module in peft_model.named_modules()
            if isinstance(module, LoraLayer) and adapter in module.lora_A}


def test_cat_blend_delta_is_the_exact_weighted_sum_and_reload_reproduces_logits(lab):
    spec = BlendSpec(name="chat72", weights={"chat": 7, "blog": 2}, method="cat", normalize=True)
    lab.blends = [spec]
    (entry,) = build_all(lab)
    assert entry["rank"] == 6 and entry["exact"] and entry["applied_weights"] == {"chat": 7 / 9, "blog": 2 / 9}
    model = load_parents(lab, {"chat": Path(entry["parent_paths"]["chat"]), "blog": Path(entry["parent_paths"]["blog"])})
    model.load_adapter(entry["path"], adapter_name="chat72")
    chat, blog, blend = deltas(model, "chat"), deltas(model, "blog"), deltas(model, "chat72")
    assert set(blend) == set(chat) and len(blend) == 6  # 2 layers x 3 modules
    worst = max((blend[k] - (7 / 9 * chat[k] + 2 / 9 * blog[k])).abs().max().item() for k in blend)
    scale = max(chat[k].abs().max().item() for k in chat)
    assert scale > 1e-2 and worst < 1e-5, (worst, scale)

    ids = torch.tensor([[5, 17, 42, 99, 7]])
    model.set_adapter("chat72")
    with torch.no_grad():
        in_memory = model(ids).logits
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    fresh = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(resolve_base("tiny-test").path),
                                      entry["path"])
    with torch.no_grad():
        reloaded = fresh(ids).logits
    assert torch.allclose(in_memory, reloaded, atol=1e-6)
    with torch.no_grad(), model.disable_adapter():
        assert not torch.allclose(model(ids).logits, reloaded, atol=1e-4)  # the blend changes the model


def test_normalize_flag_and_checkpoint_steps(lab):
    assert blend_weights(BlendSpec(name="x", weights={"chat": 7, "blog": 2}, normalize=False)) == {"chat": 0.7, "blog": 0.2}
    lab.blends = [BlendSpec(name="early", weights={"chat": 1, "blog": 1}, steps={"chat": 3})]
    (entry,) = build_all(lab)
    assert entry["steps"] == {"chat": 3, "blog": 6} and entry["parent_paths"]["chat"].endswith("checkpoint-3")


def test_registry_lists_every_variant_with_lineage(lab):
    registry = run_blend(lab)
    names = [v["name"] for v in registry["variants"]]
    assert names == ["base", "prompted", "retrieval", "chat", "blog", "chat55", "chat72", "chat91"]
    prompted = registry["variants"][1]
    assert "阿澈" in prompted["system_prompt"] and "Some of your real replies" in prompted["system_prompt"]
    blend = registry["variants"][6]
    assert blend["parents"] == ["chat", "blog"] and blend["weights"] == {"chat": 7, "blog": 2}
    assert load_registry(lab.paths) == registry
    assert (Path(blend["path"]) / "adapter_model.safetensors").exists()


@pytest.mark.parametrize("spec,message", [
    (BlendSpec(name="bad", weights={"chat": 1, "poems": 1}), "never trained"),
    (BlendSpec(name="bad", weights={"chat": 0, "blog": 0}), "all zero"),
    (BlendSpec(name="bad", weights={"chat": 1, "blog": -1}), "negative"),
    (BlendSpec(name="bad", weights={"chat": 1, "blog": 1}, steps={"chat": 999}), "no checkpoint at step 999"),
])
def test_bad_blends_fail_before_anything_is_written(lab, spec, message):
    good = BlendSpec(name="fine", weights={"chat": 1, "blog": 1})
    lab.blends = [good, spec]
    with pytest.raises(BlendError, match=message):
        run_blend(lab)
    assert not (lab.workspace_dir / "blends" / "fine").exists()
    assert not (lab.workspace_dir / "variants.json").exists()


def test_merge_full_writes_a_plain_model_with_the_same_outputs(lab):
    lab.blends = [BlendSpec(name="chat91", weights={"chat": 9, "blog": 1})]
    (entry,) = build_all(lab, merge_full=True)
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    full = AutoModelForCausalLM.from_pretrained(entry["full_model"])
    adapter = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(resolve_base("tiny-test").path),
                                        entry["path"])
    ids = torch.tensor([[3, 1, 4, 1, 5, 9]])
    with torch.no_grad():
        assert torch.allclose(full(ids).logits, adapter(ids).logits, atol=1e-4)
