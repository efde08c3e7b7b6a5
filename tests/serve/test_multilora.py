"""The stacked multi-LoRA path against PEFT itself: every variant decoded in one mixed batch gives, token for
token at temperature 0, what PEFT gives with that adapter alone (fp32, the tiny model, random non-zero
adapters); rank patterns, rsLoRA, different target modules and cat blends of another rank are stacked too;
an adapter the stack cannot represent (DoRA) runs through PEFT in batches of its own, with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from persona_lab.serve.backend import ChatRequest, GenerationParams

PROMPTS = [[{"role": "user", "content": "今天吃什么 hello"}],
           [{"role": "system", "content": "You are 阿澈."}, {"role": "user", "content": "周末打球吗"},
            {"role": "assistant", "content": "可以的"}, {"role": "user", "content": "几点 ok"}]]
TOKENS = 12


def peft_alone(base_path: str, adapter: str | None, prompt_ids: list[int], stop_ids: set[int]) -> list[int]:
    """Greedy tokens from a fresh model with only ``adapter`` loaded (PEFT's own forward), or the plain base."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32).eval()
    if adapter is not None:
        model = PeftModel.from_pretrained(model, adapter).eval()
    ids = torch.tensor([prompt_ids])
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=TOKENS,
                             do_sample=False, eos_token_id=sorted(stop_ids))
    return [t for t in out[0, ids.shape[1]:].tolist() if t not in stop_ids]


def make_adapter(base_path: str, out: Path, seed: int, **lora_options) -> str:
    """A saved adapter with random A and B (init_lora_weights=False), so it changes the output."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_path)
    options = {"r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj", "down_proj"]} | lora_options
    peft_model = get_peft_model(model, LoraConfig(init_lora_weights=False, task_type="CAUSAL_LM", **options))
    with torch.no_grad():  # larger B: the adapters must change greedy tokens for the test to mean anything
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.mul_(3.0)
    peft_model.save_pretrained(out)
    return str(out)


def check_against_peft(engine, variants: list[str]) -> dict[str, list[list[int]]]:
    """Decode every (variant, prompt) in one mixed batch and compare each with PEFT alone."""
    requests = [ChatRequest(v, p, GenerationParams(TOKENS, 0)) for p in PROMPTS for v in variants]
    results = engine.chat_batch(requests)
    by_variant: dict[str, list[list[int]]] = {}
    for request, result in zip(requests, results):
        entry = engine.variants_by_name[request.variant]
        adapter = entry["path"] if entry["kind"] in ("adapter", "blend") else None
        prompt = engine.prompt_ids(request.variant, request.messages, TOKENS)
        expected = peft_alone(engine.registry["base_path"], adapter, prompt, engine.stop_ids)
        assert result.token_ids == expected, (request.variant, request.messages[-1]["content"])
        by_variant.setdefault(request.variant, []).append(result.token_ids)
    return by_variant


def test_every_variant_in_a_mixed_batch_equals_peft_alone(engine):
    assert engine.lora_path == "stacked" and engine.lora_fallback == {}
    tokens = check_against_peft(engine, engine.variants())
    assert tokens["chat"] != tokens["base"] and tokens["chat91"] != tokens["chat"]  # the adapters matter


def test_rank_patterns_rslora_and_other_target_modules(tmp_path, served_lab):
    """Adapters unlike the registry's: other modules (o_proj, gate_proj), per-module rank and alpha, rsLoRA
    scaling (alpha / sqrt(r)), all beside the lab's cat blends (rank 6)."""
    from persona_lab.serve.local import LocalEngine
    from persona_lab.workspace.shapes import load_registry

    registry = load_registry(served_lab.paths)
    base_path = registry["base_path"]
    registry["variants"] += [
        {"name": "odd", "kind": "adapter", "path": make_adapter(
            base_path, tmp_path / "odd", 5, r=3, lora_alpha=5, target_modules=["o_proj", "gate_proj", "k_proj"],
            rank_pattern={"gate_proj": 7}, alpha_pattern={"k_proj": 2})},
        {"name": "rs", "kind": "adapter", "path": make_adapter(
            base_path, tmp_path / "rs", 6, r=5, lora_alpha=3, use_rslora=True,
            target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "up_proj"])},
    ]
    engine = LocalEngine(registry, max_batch=32)
    assert engine.lora_path == "stacked"
    assert engine.multi.spans["odd"][1] - engine.multi.spans["odd"][0] == 7  # padded to its largest rank
    check_against_peft(engine, ["odd", "rs", "chat72", "base", "blog"])


def test_dora_runs_through_peft_alone_with_the_reason(tmp_path, served_lab):
    from persona_lab.serve.local import LocalEngine
    from persona_lab.workspace.shapes import load_registry

    registry = load_registry(served_lab.paths)
    registry["variants"].append({"name": "dora", "kind": "adapter", "path": make_adapter(
        registry["base_path"], tmp_path / "dora", 7, use_dora=True)})
    with pytest.warns(UserWarning, match="dora: use_dora is set"):
        engine = LocalEngine(registry)
    assert engine.lora_path == "stacked" and engine.lora_fallback == {"dora": "use_dora is set"}
    assert "dora" not in engine.multi.spans
    check_against_peft(engine, ["dora", "chat", "base", "chat72"])  # submitted together, dora rows alone
    # first come, first served: per prompt, dora's row ran alone, then the other three together
    assert engine.stats["largest_batch"] == 3


def test_the_module_gives_each_row_its_own_adapter(engine):
    """One wrapped module, a mixed batch: row k's output is the base output plus adapter k's delta as PEFT
    computes it (base rows get the base output exactly)."""
    from persona_lab.serve.multilora import MultiLoraLinear

    name, module = next((n, m) for n, m in engine.model.named_modules() if isinstance(m, MultiLoraLinear))
    layer = module.peft_layer
    adapters = [None, "chat", "blog", "chat72", None, "chat"]
    x = torch.randn(len(adapters), 3, layer.in_features)

    def routed(route):
        try:
            route()
            return engine.on_engine_thread(module, x)
        finally:
            engine.multi.use_peft()

    mixed = routed(lambda: engine.multi.route(adapters, "cpu", torch.float32))
    base = layer.base_layer(x)
    for row, adapter in enumerate(adapters):
        if adapter is None:
            assert torch.equal(mixed[row], base[row]), name
        else:
            delta = layer.lora_B[adapter](layer.lora_A[adapter](x[row])) * layer.scaling[adapter]
            assert torch.allclose(mixed[row], base[row] + delta, atol=1e-5), (name, adapter)
            assert not torch.allclose(mixed[row], base[row], atol=1e-3)  # the delta is there
    single = routed(lambda: engine.multi.route(["blog"] * len(adapters), "cpu", torch.float32))
    assert torch.allclose(single[2], mixed[2], atol=1e-5)  # one adapter for all rows: its columns alone
