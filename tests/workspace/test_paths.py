"""One module knows the workspace: no other module joins a workspace path or names a workspace file, and every
stage's outputs lie inside the workspace."""

from __future__ import annotations

import re
from pathlib import Path

from persona_lab.config import parse_config
from persona_lab.loop import PIPELINE, STAGES
from tests.conftest import ROOT

WORKSPACE_FILES = ("messages.jsonl", "chat_train.jsonl", "chat_eval.jsonl", "blog_train.jsonl", "variants.json",
                   "scores.json", "replies.json", "report.md", "arena.db", "run_manifest.json", "pii_report.json",
                   "surrogate_names.json", "canaries.json", "DATA_CARD.md", "manifest.json")
JOINS = re.compile(r"(workspace_dir|data_dir)\s*/|[\"'](" + "|".join(map(re.escape, WORKSPACE_FILES)) + r")[\"']")
OWNERS = {"persona_lab/workspace/paths.py", "persona_lab/config.py"}


def test_no_module_but_the_workspace_layer_builds_a_workspace_path():
    offenders = []
    for path in sorted((ROOT / "persona_lab").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name in OWNERS:
            continue
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if JOINS.search(code) and not code.strip().startswith(('"', "'")):
                offenders.append(f"{name}:{number}: {line.strip()}")
    # train/sft.py writes its own adapter folder's manifest.json and blends their blend_manifest.json: those
    # files live inside a stage's own output folder, which Workspace hands it
    offenders = [o for o in offenders if "manifest.json" not in o or "run_manifest" in o]
    assert offenders == []


def test_every_stage_writes_inside_the_workspace(tmp_path: Path):
    config = parse_config({"name": "lab", "workspace": str(tmp_path / "ws")}, tmp_path / "lab.yaml")
    assert STAGES == ("ingest", "train", "blend", "search", "tune", "eval")
    for stage in PIPELINE:
        outputs = stage.outputs(config)
        assert outputs and all(p.is_relative_to(config.paths.root) for p in outputs), stage.name
