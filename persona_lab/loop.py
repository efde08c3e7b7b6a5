"""`persona-lab run`: the whole loop for one lab, stage by stage, redoing only what changed.

Stages, in order, and what each depends on (its *inputs*):
  ingest  the exports' and blog posts' bytes, and the settings that shape the data (me, facets, ingest,
          privacy, blog Q&A, time zone, seed) -> data/  (scrubbing and blog Q&A are part of this stage)
  train   data/{chat,blog}_train.jsonl, the base model, the train settings, template and seed -> adapters/
  blend   the adapters' weights (final and checkpoints), the blend specs and data/chat_train.jsonl
          (the prompted variant's persona prompt is built from it) -> blends/, variants.json
  eval    variants.json, every adapter/blend file, data/, the eval and engine settings, the arena's
          votes -> eval/ (scores.json, report.md/html and plots)

Features and trade-offs:
  * each stage's inputs are hashed (content, not timestamps) and recorded with its outputs' hashes in
    ``results/<lab>/run_manifest.json``; a stage is skipped when its inputs hash is the recorded one and
    every recorded output is still there, unchanged. Anything else (new data, a changed setting, a deleted
    or edited output, a new persona-lab version) redoes the stage.
  * ``force`` redoes the named stages even when nothing changed; later stages then rerun only if their
    inputs changed (training is seeded, so a forced retrain that gives identical weights blends nothing new).
  * ``until`` stops after a stage. The manifest is written after every stage, so a failure or Ctrl-C keeps
    what finished.
  * skipping is coarse on purpose: within a stage, training reuses an unchanged adapter per source and the
    evaluation reuses cached replies per variant, so a rerun stage is still cheap where it can be.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from persona_lab import __version__
from persona_lab.config import LabConfig
from persona_lab.hashing import file_hash, json_hash, tree_hashes

STAGES = ("ingest", "train", "blend", "eval")
MANIFEST = "run_manifest.json"
# Optimiser, scheduler and RNG states of checkpoints: large, and not what any later stage reads.
TRAINER_STATE_SUFFIXES = (".pt", ".pth")


class RunError(Exception):
    """A stage name or run option that cannot be used."""


@dataclass
class StageOutcome:
    stage: str
    skipped: bool
    seconds: float
    reason: str
    detail: Any = None


@dataclass
class Stage:
    name: str
    inputs: Callable[[LabConfig, dict], dict[str, Any]]
    outputs: Callable[[LabConfig], list[Path]]
    run: Callable[[LabConfig, dict], Any]


@dataclass
class RunOptions:
    until: str = "eval"
    force: set[str] = field(default_factory=set)
    quick: bool = False
    progress: bool = True
    on_stage: Callable[[StageOutcome], None] | None = None  # called after each stage (the CLI prints)


# ------------------------------------------------------------------------------------------ inputs


def _settings(config: LabConfig, *names: str) -> dict[str, Any]:
    return {name: config.model_dump(mode="json", include={name}).get(name) for name in names}


def ingest_inputs(config: LabConfig, options: dict) -> dict[str, Any]:
    from persona_lab.ingest.stage import expand_sources
    from persona_lab.privacy import load_or_create_secret

    # The secret keys the pseudonyms and hashes in data/: a new secret means new outputs.
    secret = load_or_create_secret(config.workspace_dir)
    files = {str(path): {"format": fmt, "me": sorted(extra), "hashes": tree_hashes(path)}
             for path, fmt, extra in expand_sources(config)}
    blog = {str(p): tree_hashes(config.resolve(p)) for p in config.blog}
    return {"files": files, "blog": blog, "secret": json_hash(secret.hex()),
            **_settings(config, "me", "persona_name", "seed", "timezone", "facets", "ingest", "privacy",
                        "blog2qa")}


def train_stage_inputs(config: LabConfig, options: dict) -> dict[str, Any]:
    from persona_lab.train.sft import train_inputs

    return {source: train_inputs(config, source, options["quick"]) for source in _sources(config)}


def blend_inputs(config: LabConfig, options: dict) -> dict[str, Any]:
    # What a blend reads: the final adapter and the checkpoints (a blend may take "chat at step 600") —
    # not the run's log or manifest, so a retrain with identical weights changes no blend.
    adapters = {}
    for source in ("chat", "blog"):
        run_dir = config.workspace_dir / "adapters" / source
        folders = sorted(run_dir.glob("checkpoint-*")) + [run_dir / "final"]
        adapters[source] = {f.name: adapter_fingerprint(f) for f in folders if f.is_dir()}
    return {"adapters": adapters, "chat_train": tree_hashes(config.data_dir / "chat_train.jsonl"),
            **_settings(config, "blends", "persona_name", "me", "base_model")}


def eval_inputs(config: LabConfig, options: dict) -> dict[str, Any]:
    from persona_lab.evaluate.human import arena_votes

    registry_path = config.workspace_dir / "variants.json"
    registry = json.loads(registry_path.read_text("utf-8")) if registry_path.exists() else None
    variant_files = {}
    for variant in (registry or {}).get("variants", []):
        variant.pop("created", None)  # a rebuilt registry with the same content is the same input
        if variant.get("path"):
            variant_files[variant["name"]] = adapter_fingerprint(Path(variant["path"]))
    if registry:
        registry.pop("updated", None)
    return {"registry": registry, "variant_files": variant_files, "data": tree_hashes(config.data_dir),
            "serve": {"engine": config.serve.engine, "guard": config.serve.guard,
                      "openai": config.serve.model_dump(mode="json")["openai"]},
            "votes": json_hash(arena_votes(config)), **_settings(config, "eval", "base_model", "seed")}


def adapter_fingerprint(folder: Path) -> dict[str, Any]:
    """What a served adapter's answers depend on: its weights and the LoRA settings of its config. Not the
    whole folder: PEFT writes target_modules in set order and blends record when they were made."""
    weights = {p.name: file_hash(p) for p in sorted(folder.glob("*.safetensors"))}
    config_path = folder / "adapter_config.json"
    lora = {}
    if config_path.exists():
        raw = json.loads(config_path.read_text("utf-8"))
        lora = {key: raw.get(key) for key in ("r", "lora_alpha", "use_rslora", "use_dora", "rank_pattern",
                                              "alpha_pattern")}
        modules = raw.get("target_modules")
        lora["target_modules"] = sorted(modules) if isinstance(modules, list) else modules
    return {"weights": weights, "lora": lora}


def _sources(config: LabConfig) -> list[str]:
    return ["chat"] + (["blog"] if (config.data_dir / "blog_train.jsonl").exists() else [])


# ------------------------------------------------------------------------------------------- runs


def run_ingest_stage(config: LabConfig, options: dict) -> Any:
    from persona_lab.ingest.stage import run_ingest

    return run_ingest(config, progress=options["progress"])


def run_train_stage(config: LabConfig, options: dict) -> Any:
    from persona_lab.train.sft import train_source

    return [train_source(config, source, quick=options["quick"], progress=options["progress"],
                         force="train" in options["force"]) for source in _sources(config)]


def run_blend_stage(config: LabConfig, options: dict) -> Any:
    from persona_lab.blend.stage import run_blend

    return run_blend(config)


def run_eval_stage(config: LabConfig, options: dict) -> Any:
    from persona_lab.evaluate.runner import run_eval

    return run_eval(config, progress=options["progress"])


PIPELINE = (
    Stage("ingest", ingest_inputs, lambda c: [c.data_dir], run_ingest_stage),
    Stage("train", train_stage_inputs,
          lambda c: [c.workspace_dir / "adapters" / s for s in _sources(c)], run_train_stage),
    Stage("blend", blend_inputs,
          lambda c: [c.workspace_dir / "blends", c.workspace_dir / "variants.json"], run_blend_stage),
    Stage("eval", eval_inputs, lambda c: [c.workspace_dir / "eval" / name for name in
                                          ("scores.json", "report.md", "report.html")], run_eval_stage),
)


# ------------------------------------------------------------------------------------------- loop


def run_loop(config: LabConfig, options: RunOptions | None = None) -> list[StageOutcome]:
    """Run the stages up to ``options.until``, skipping those whose inputs and outputs are unchanged."""
    options = options or RunOptions()
    unknown = sorted(({options.until} | options.force) - set(STAGES))
    if unknown:
        raise RunError(f"unknown stage {', '.join(map(repr, unknown))}; the stages are {', '.join(STAGES)}")
    manifest_path = config.workspace_dir / MANIFEST
    manifest = read_manifest(manifest_path)
    opts = {"quick": options.quick, "progress": options.progress, "force": options.force}
    outcomes = []
    for stage in PIPELINE:
        started = time.time()
        # A stage's inputs are all written by earlier stages (or exist before the loop), so hashing them
        # once, before the stage runs, is what the manifest records.
        inputs_hash = json_hash({"version": __version__, "inputs": stage.inputs(config, opts)})
        reason = _why_run(stage, config, manifest.get(stage.name), inputs_hash, stage.name in options.force)
        if reason is None:
            outcome = StageOutcome(stage.name, True, time.time() - started,
                                   f"unchanged since {manifest[stage.name]['finished']}")
        else:
            detail = stage.run(config, opts)
            manifest[stage.name] = {
                "inputs_hash": inputs_hash,
                "outputs": _output_hashes(stage, config), "seconds": round(time.time() - started, 1),
                "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "reason": reason}
            write_manifest(manifest_path, manifest)
            outcome = StageOutcome(stage.name, False, time.time() - started, reason, detail)
        outcomes.append(outcome)
        if options.on_stage:
            options.on_stage(outcome)
        if stage.name == options.until:
            break
    return outcomes


def _why_run(stage: Stage, config: LabConfig, recorded: dict | None, inputs_hash: str, forced: bool) -> str | None:
    """Why the stage must run, or None when its recorded run still stands."""
    if forced:
        return "forced"
    if not recorded:
        return "never run"
    if recorded["inputs_hash"] != inputs_hash:
        return "inputs changed"
    if _output_hashes(stage, config) != recorded["outputs"]:
        return "outputs missing or changed"
    return None


def _output_hashes(stage: Stage, config: LabConfig) -> dict[str, dict[str, str]]:
    return {str(path): tree_hashes(path, skip_suffixes=TRAINER_STATE_SUFFIXES) for path in stage.outputs(config)}


def read_manifest(path: Path) -> dict[str, Any]:
    """The recorded stages; a missing or unreadable manifest is an empty one (every stage runs)."""
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), "utf-8")
    tmp.replace(path)
