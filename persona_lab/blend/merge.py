"""Blends of the trained adapters at declared ratios, saved as standard PEFT adapter folders.

Methods (PEFT ``add_weighted_adapter``; measured in shared/FINDINGS.md):
  cat        exact: the blend's delta is Σ wᵢ·ΔWᵢ (A and B are concatenated; rank = Σ rᵢ). The default.
  svd        exact only when its rank reaches Σ rᵢ: we pass that rank, so it is exact up to float error
             but larger to store; a smaller rank would truncate.
  linear     NOT the weighted sum: it mixes A and B separately, so cross terms appear; needs equal ranks.
  ties       lossy by design (trims to ``density``, elects signs), for comparison.
  dare_ties  lossy and random by design (drops at rate 1-density, rescales), for comparison.
``normalize: true`` turns 7:2 into 7/9 and 2/9; ``false`` uses 0.7 and 0.2 (weights / 10) — PEFT itself
does not normalise, so the two are different models; the manifest records which was used.
A blend can take a checkpoint step per parent ("chat at step 600").
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from persona_lab.basemodel import resolve_base
from persona_lab.config import BlendSpec, LabConfig
from persona_lab.errors import PersonaLabError
from persona_lab.progress import quiet_library_progress
from persona_lab.registries import MERGE_METHODS
from persona_lab.workspace import SOURCES
from persona_lab.workspace.shapes import read_tune_manifest


@dataclass(frozen=True)
class MergeMethod:
    """One PEFT combination type, what it guarantees, and the extra arguments it needs."""

    name: str
    exact: bool
    summary: str

    def kwargs(self, spec: BlendSpec, ranks: list[int]) -> dict[str, Any]:
        if self.name == "svd":
            return {"svd_rank": sum(ranks)}  # full rank: no truncation, so the blend stays exact
        if self.name in ("ties", "dare_ties"):
            return {"density": spec.density}
        if self.name == "linear" and len(set(ranks)) > 1:
            raise BlendError(f"blend {spec.name!r}: method 'linear' needs equal ranks, got {ranks}")
        return {}


# Registered by name in persona_lab/registries.py (MERGE_METHODS), where the config checks blend methods.
CAT = MergeMethod("cat", True, "concatenate A and B: delta = sum w_i dW_i, rank = sum r_i")
SVD = MergeMethod("svd", True, "SVD of the weighted sum at full rank")
LINEAR = MergeMethod("linear", False, "mixes A and B separately: adds cross terms")
TIES = MergeMethod("ties", False, "trim to density, elect signs, disjoint merge")
DARE_TIES = MergeMethod("dare_ties", False, "random drop + rescale, then TIES")


class BlendError(PersonaLabError):
    """A blend that cannot be made; the message says which adapter, weight or step is wrong."""

    hint = "train the adapters first (`persona-lab train --config CFG`) and check blends: in the config"


def blend_weights(spec: BlendSpec) -> dict[str, float]:
    """The weights PEFT receives, after checking them."""
    weights = spec.weights
    if not weights:
        raise BlendError(f"blend {spec.name!r}: no weights given")
    if any(w < 0 for w in weights.values()):
        raise BlendError(f"blend {spec.name!r}: negative weight in {weights}")
    total = sum(weights.values())
    if total <= 0:
        raise BlendError(f"blend {spec.name!r}: weights are all zero")
    if spec.normalize:
        return {name: w / total for name, w in weights.items()}
    return {name: w / 10.0 for name, w in weights.items()}


def parent_folder(config: LabConfig, spec: BlendSpec, parent: str) -> tuple[Path, int]:
    """The adapter folder (final, or the checkpoint at the requested step) and its step. A preference-tuned
    variant (`persona-lab tune`, tuned/<name>/) is a parent too, by its name; it keeps no checkpoints."""
    manifest_path = config.paths.adapter_manifest(parent)
    tuned_manifest = config.paths.tune_manifest(parent)
    if not manifest_path.exists() and tuned_manifest.exists():
        tuned = read_tune_manifest(tuned_manifest)
        if (spec.steps or {}).get(parent) is not None:
            raise BlendError(f"blend {spec.name!r}: tuned adapter {parent!r} keeps no checkpoints; drop its step")
        return Path(tuned.adapter), tuned.steps
    if not manifest_path.exists():
        how = f"`persona-lab train --source {parent}`" if parent in SOURCES else \
            f"`persona-lab tune` (tune.name: {parent}) or `persona-lab train`"
        raise BlendError(f"blend {spec.name!r} names adapter {parent!r}, which was never trained "
                         f"(no {manifest_path} nor {tuned_manifest}); run {how}")
    manifest = json.loads(manifest_path.read_text("utf-8"))
    step = (spec.steps or {}).get(parent)
    if step is None:
        return Path(manifest["final"]), int(manifest["steps"])
    available = {int(k): v for k, v in manifest["checkpoints"].items()}
    if step not in available:
        raise BlendError(f"blend {spec.name!r}: adapter {parent!r} has no checkpoint at step {step}; "
                         f"available steps: {', '.join(map(str, sorted(available))) or 'none'}")
    return Path(available[step]), step


def adapter_key(parent: str, step: int) -> str:
    """The name a parent adapter at one step has inside the loaded PeftModel (several steps can be loaded)."""
    return f"{parent}-step{step}"


def build_blend(config: LabConfig, spec: BlendSpec, *, merge_full: bool = False, model=None,
                out_dir: Path | None = None) -> dict[str, Any]:
    """Make one blend in ``out_dir`` (default blends/<name>); returns its registry entry. ``model`` may be a
    PeftModel already holding parents (named by ``adapter_key``); missing ones are loaded into it."""
    weights = blend_weights(spec)
    method = MERGE_METHODS.get(spec.method)
    parents = {name: parent_folder(config, spec, name) for name in weights}
    out_dir = out_dir or config.paths.blend(spec.name)
    names = list(weights)
    keys = [adapter_key(name, parents[name][1]) for name in names]
    peft_model = load_parents(config, {key: parents[name][0] for key, name in zip(keys, names)}, model)
    ranks = [peft_model.peft_config[key].r for key in keys]
    kwargs = method.kwargs(spec, ranks)
    if spec.name in peft_model.peft_config:
        peft_model.delete_adapter(spec.name)
    peft_model.add_weighted_adapter(adapters=keys, weights=[weights[n] for n in names], adapter_name=spec.name,
                                    combination_type=spec.method, **kwargs)
    staging = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    peft_model.save_pretrained(str(staging), selected_adapters=[spec.name])
    shutil.rmtree(out_dir, ignore_errors=True)
    (staging / spec.name).replace(out_dir)
    shutil.rmtree(staging, ignore_errors=True)
    rank = peft_model.peft_config[spec.name].r
    entry = {
        "name": spec.name, "kind": "blend", "path": str(out_dir), "parents": names,
        "weights": spec.weights, "applied_weights": weights, "normalize": spec.normalize, "method": spec.method,
        "exact": method.exact, "steps": {name: parents[name][1] for name in names},
        "parent_paths": {name: str(parents[name][0]) for name in names}, "rank": rank,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if merge_full:
        entry["full_model"] = str(write_full_model(peft_model, spec.name, out_dir.with_name(spec.name + "-full"),
                                                   config))
    peft_model.delete_adapter(spec.name)  # a search builds many blends on one model: keep only the parents
    (out_dir / "blend_manifest.json").write_text(json.dumps(entry, indent=1), "utf-8")
    return entry


def load_parents(config: LabConfig, folders: dict[str, Path], model=None):
    """The base with every adapter of ``folders`` (name -> folder) attached by name, added to ``model`` (a
    PeftModel) when given: one loaded base for every blend, no reloads."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    quiet_library_progress()
    peft_model = model
    for name, folder in folders.items():
        if peft_model is None:
            base = resolve_base(config.base_model, config.chat_template)
            plain = AutoModelForCausalLM.from_pretrained(base.path, dtype=torch.float32)
            peft_model = PeftModel.from_pretrained(plain, str(folder), adapter_name=name)
        elif name not in peft_model.peft_config:
            peft_model.load_adapter(str(folder), adapter_name=name)
    return peft_model


def write_full_model(peft_model, adapter: str, out: Path, config: LabConfig) -> Path:
    """Merge one adapter into a copy of the base weights and save a plain model (safetensors) + tokenizer,
    for servers without LoRA support."""
    import copy

    from transformers import AutoTokenizer

    work = copy.deepcopy(peft_model)
    work.set_adapter(adapter)
    merged = work.merge_and_unload(adapter_names=[adapter])
    shutil.rmtree(out, ignore_errors=True)
    merged.save_pretrained(str(out), safe_serialization=True)
    base = resolve_base(config.base_model, config.chat_template)
    tokenizer = AutoTokenizer.from_pretrained(base.path)
    tokenizer.chat_template = base.chat_template
    tokenizer.save_pretrained(str(out))
    return out


def build_all(config: LabConfig, *, merge_full: bool = False, only: list[str] | None = None) -> list[dict]:
    """Every blend of the config, sharing one loaded base; fails before writing anything on a bad spec."""
    specs = [s for s in config.blends if only is None or s.name in only]
    for spec in specs:  # validate all first: no half-made set of blends
        blend_weights(spec)
        for parent in spec.weights:
            parent_folder(config, spec, parent)
    if not specs:
        return []
    folders = {}
    for spec in specs:
        for parent in spec.weights:
            folder, step = parent_folder(config, spec, parent)
            folders[adapter_key(parent, step)] = folder
    model = load_parents(config, folders)
    return [build_blend(config, spec, merge_full=merge_full, model=model) for spec in specs]
