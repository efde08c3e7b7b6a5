"""persona-lab tune: SPIN / DPO / KTO on the parent's LoRA, preference data from the arena, lineage, serving."""

from __future__ import annotations

import json

from persona_lab.tune.stage import run_tune


def with_tune(config, **tune):
    return config.model_copy(update={"tune": config.tune.model_copy(update=tune)})


def test_spin_grows_the_held_out_margin_and_registers_a_servable_blendable_variant(served_lab):
    from persona_lab.workspace.shapes import load_registry

    config = with_tune(served_lab, from_variant="chat", method="spin", pairs=24, steps=12, lr=5e-3, batch_size=4,
                       held_out=0.25, max_new_tokens=12, beta=0.1)
    lines = []
    result = run_tune(config, progress=False, say=lines.append)
    manifest = result.manifest
    print(json.dumps({k: manifest[k] for k in ("margin_before", "margin_after", "steps", "seconds")}))
    assert manifest["held_out_examples"] == 6 and manifest["train_examples"] + manifest["held_out_examples"] <= 24
    assert manifest["margin_after"] > manifest["margin_before"] + 1.0
    assert manifest["held_out_after"]["accuracy"] >= manifest["held_out_before"]["accuracy"]
    registry = load_registry(config.paths)
    entry = {v["name"]: v for v in registry["variants"]}["chat-spin"]
    assert entry["kind"] == "adapter" and entry["tuned_from"] == "chat" and entry["method"] == "spin"
    assert entry["data_hash"] == manifest["data_hash"] and entry["votes"] == 0
