"""`persona-lab run`: the whole loop for one lab, stage by stage, redoing only what changed.

Stages, in order (each declares its inputs, outputs and run in its own package: persona_lab/stage.py):
  ingest  the exports' and blog posts' bytes, and the settings that shape the data (me, facets, ingest,
          privacy, blog Q&A, time zone, seed) -> data/  (scrubbing and blog Q&A are part of this stage)
  train   data/{chat,blog}_train.jsonl, the base model, the train settings, template and seed -> adapters/
  blend   the adapters' weights (final and checkpoints), the blend specs and data/chat_train.jsonl
          (the prompted variant's persona prompt is built from it) -> blends/ (and variants.json, which
          the loop rebuilds from disk after blend, search and tune)
  search  (optional, search.enabled) the adapters' steps, the training file, the search, generation and blend
          settings -> search/ (trials, search/trials.json, the best blend as the variant ``auto``)
  tune    (optional, tune.enabled) the parent variant's adapter, the training file (spin) or the arena's
          votes (dpo, kto), the tune settings -> tuned/<from>-<method>/ (a new adapter variant with lineage)
  eval    variants.json, every adapter/blend file, data/, the eval and engine settings, the arena's
          votes -> eval/ (scores.json, report.md/html and plots)

Features and trade-offs:
  * each stage's inputs are hashed (content, not timestamps) and recorded with its outputs' hashes in
    ``results/<lab>/run_manifest.json``; a stage is skipped when its inputs hash is the recorded one and
    every recorded output is still there, unchanged. Anything else (new data, a changed setting, a deleted
    or edited output, a new persona-lab version) redoes the stage.
  * ``force`` redoes the named stages even when nothing changed; later stages then rerun only if their
    inputs changed (training is seeded, so a forced retrain that gives identical weights blends nothing new).
  * variants.json is derived from what is on disk (base, prompted, retrieval, adapters, blends, auto):
    it is rebuilt after a stage that adds variants ran (or when it is missing: a rebuild reads the training
    file and the messages, ~2 s on the Joey lab, so skipped stages do not pay it), and a rebuild with the same
    variants changes nothing,
    so a later stage adding a variant does not make an earlier one look changed.
  * an optional stage that is off (search, tune) is skipped and says so; turning it on runs it.
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
from persona_lab.blend.registry import write_registry
from persona_lab.blend.stage import STAGE as BLEND
from persona_lab.config import LabConfig
from persona_lab.errors import PersonaLabError
from persona_lab.evaluate.stage import STAGE as EVAL
from persona_lab.hashing import json_hash, tree_hashes
from persona_lab.ingest.stage import STAGE as INGEST
from persona_lab.search.stage import STAGE as SEARCH
from persona_lab.stage import RunContext, Stage
from persona_lab.train.stage import STAGE as TRAIN
from persona_lab.tune.stage import STAGE as TUNE

PIPELINE: tuple[Stage, ...] = (INGEST, TRAIN, BLEND, SEARCH, TUNE, EVAL)
REGISTRY_STAGES = {BLEND.name, SEARCH.name, TUNE.name}  # the stages that add variants; variants.json is rebuilt after them
STAGES = tuple(stage.name for stage in PIPELINE)
# Optimiser, scheduler and RNG states of checkpoints: large, and not what any later stage reads.
TRAINER_STATE_SUFFIXES = (".pt", ".pth")


class RunError(PersonaLabError):
    """A stage name or run option that cannot be used."""

    hint = f"the stages are {', '.join(STAGES)}"


@dataclass
class StageOutcome:
    stage: str
    skipped: bool
    seconds: float
    reason: str
    detail: Any = None


@dataclass
class RunOptions:
    until: str = "eval"
    force: set[str] = field(default_factory=set)
    quick: bool = False
    progress: bool = True
    on_stage: Callable[[StageOutcome], None] | None = None  # called after each stage (the CLI prints)


def run_loop(config: LabConfig, options: RunOptions | None = None) -> list[StageOutcome]:
    """Run the stages up to ``options.until``, skipping those whose inputs and outputs are unchanged."""
    options = options or RunOptions()
    unknown = sorted(({options.until} | options.force) - set(STAGES))
    if unknown:
        raise RunError(f"unknown stage {', '.join(map(repr, unknown))}; the stages are {', '.join(STAGES)}")
    manifest_path = config.paths.run_manifest
    manifest = read_manifest(manifest_path)
    context = RunContext(quick=options.quick, progress=options.progress, force=frozenset(options.force))
    outcomes = []
    for stage in PIPELINE:
        started = time.time()
        if not stage.enabled(config):
            outcome = StageOutcome(stage.name, True, 0.0, f"off ({stage.name}.enabled is false in the config)")
            outcomes.append(outcome)
            if options.on_stage:
                options.on_stage(outcome)
            if stage.name == options.until:
                break
            continue
        # A stage's inputs are all written by earlier stages (or exist before the loop), so hashing them
        # once, before the stage runs, is what the manifest records.
        inputs_hash = json_hash({"version": __version__, "inputs": stage.inputs(config, context)})
        reason = _why_run(stage, config, manifest.get(stage.name), inputs_hash, stage.name in options.force)
        if reason is None:
            outcome = StageOutcome(stage.name, True, time.time() - started,
                                   f"unchanged since {manifest[stage.name]['finished']}")
        else:
            detail = stage.run(config, context)
            manifest[stage.name] = {
                "inputs_hash": inputs_hash,
                "outputs": _output_hashes(stage, config), "seconds": round(time.time() - started, 1),
                "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "reason": reason}
            write_manifest(manifest_path, manifest)
            outcome = StageOutcome(stage.name, False, time.time() - started, reason, detail)
        if stage.name in REGISTRY_STAGES and (reason is not None or not config.paths.variants.exists()):
            write_registry(config)  # from disk, after a stage that added variants, or when the file is missing
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
