from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from persona_lab.train.sft import TrainError, train_source
from tests.conftest import ROOT


def test_training_writes_checkpoints_log_plot_and_manifest_then_reuses(tiny_lab):
    from transformers import AutoTokenizer

    result = train_source(tiny_lab, "chat", progress=False)
    run = result.run_dir
    assert sorted(result.manifest["checkpoints"]) == [2, 4, 6] and result.manifest["steps"] == 6
    losses = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in losses if "loss" in row] == [1, 2, 3, 4, 5, 6]
    assert (run / "loss.png").stat().st_size > 2000
    assert (run / "final" / "adapter_config.json").exists()
    # 6 steps x 4 samples = each of the 24 samples once: every token of every sample, padding excluded
    tokenizer = AutoTokenizer.from_pretrained(run / "final")
    rows = [json.loads(line)["messages"] for line in (tiny_lab.data_dir / "chat_train.jsonl").read_text().splitlines()]
    assert result.manifest["samples"] == len(rows) == 24
    assert result.manifest["tokens"] == sum(len(tokenizer.apply_chat_template(m, tokenize=True, return_dict=False))
                                            for m in rows)
    assert [row["tokens"] for row in losses if "loss" in row][-1] == result.manifest["tokens"]
    assert losses[-2]["loss"] < losses[0]["loss"]  # it learns (lr 0.01 on 8 repeated replies)
    again = train_source(tiny_lab, "chat", progress=False)
    assert again.skipped and again.manifest["created"] == result.manifest["created"]


def test_loss_falls_on_my_replies_only(tiny_lab):
    from persona_lab.basemodel import resolve_base
    from persona_lab.train.sft import _make_trainer, load_messages

    base = resolve_base("tiny-test")
    rows = load_messages(tiny_lab.data_dir / "chat_train.jsonl")[:2]
    trainer = _make_trainer(base, rows, tiny_lab.train.chat, tiny_lab.workspace_dir / "probe", 0,
                            tiny_lab.workspace_dir / "probe.jsonl", progress=False)
    sample = trainer.train_dataset[0]
    kept = [label for label in sample["labels"] if label != -100]
    assert trainer.processing_class.decode(kept) == "可以的<|im_end|>"


KILL_AT_STEP = r"""
import json, os, signal, sys
from pathlib import Path
from persona_lab.config import parse_config
from persona_lab.train import callbacks
from persona_lab.train.sft import train_source

log_step = callbacks.JsonlLogCallback.on_log


def on_log(self, args, state, control, logs=None, **kwargs):
    log_step(self, args, state, control, logs=logs, **kwargs)
    if logs and "loss" in logs and state.global_step == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)  # a real kill, at a known step: after it is logged, unsaved


callbacks.JsonlLogCallback.on_log = on_log
config = parse_config(json.loads(Path(sys.argv[1]).read_text()), Path("x.yaml"))
train_source(config, "chat", progress=False)
"""


def log_rows(run: Path) -> list[dict]:
    return [row for row in map(json.loads, (run / "train_log.jsonl").read_text().splitlines()) if "loss" in row]


def test_resume_after_a_kill_continues_the_same_run(tiny_lab, tmp_path: Path):
    """Killed (SIGKILL) at step 13 with checkpoints every 8 steps, then resumed: the log has every step once,
    and steps 9-24 have the loss and learning rate of an uninterrupted run (weights, optimizer, scheduler and
    data order all carried on from checkpoint 8)."""
    from persona_lab.config import parse_config

    tiny_lab.train.chat.max_steps, tiny_lab.train.chat.save_steps = 24, 8
    whole = parse_config({**tiny_lab.model_dump(mode="json", exclude={"config_dir"}),
                          "workspace": str(tmp_path / "whole")}, tmp_path / "whole.yaml")
    (whole.data_dir).mkdir(parents=True)
    shutil.copy(tiny_lab.data_dir / "chat_train.jsonl", whole.data_dir / "chat_train.jsonl")
    reference = log_rows(train_source(whole, "chat", progress=False).run_dir)

    config_path = tmp_path / "lab.json"
    config_path.write_text(tiny_lab.model_dump_json(), "utf-8")
    child = subprocess.run([sys.executable, "-c", KILL_AT_STEP, str(config_path), "13"], capture_output=True, check=False,
                           text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, cwd=ROOT)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    run = tiny_lab.workspace_dir / "adapters" / "chat"
    assert [row["step"] for row in log_rows(run)] == list(range(1, 14))
    assert sorted(int(p.name.split("-")[1]) for p in run.glob("checkpoint-*")) == [8]
    assert not (run / "final").exists()

    result = train_source(tiny_lab, "chat", resume=True, progress=False)
    assert result.manifest["resumed_from"] == 8 and result.manifest["steps"] == 24
    assert sorted(result.manifest["checkpoints"]) == [8, 16, 24]
    resumed = log_rows(run)
    assert [row["step"] for row in resumed] == list(range(1, 25))  # each step exactly once
    for mine, theirs in zip(resumed, reference, strict=True):
        assert mine["loss"] == pytest.approx(theirs["loss"], rel=1e-4, abs=1e-5), mine["step"]
        assert mine["learning_rate"] == pytest.approx(theirs["learning_rate"], rel=1e-9), mine["step"]
        assert mine["tokens"] == theirs["tokens"], mine["step"]
    assert result.manifest["tokens"] == reference[-1]["tokens"]


def test_bad_training_input_is_named(tiny_lab):
    (tiny_lab.data_dir / "chat_train.jsonl").write_text("", "utf-8")
    with pytest.raises(TrainError, match="empty"):
        train_source(tiny_lab, "chat", progress=False)
    (tiny_lab.data_dir / "chat_train.jsonl").write_text('{"messages": [{"role": "user", "content": "x"}]}\n', "utf-8")
    with pytest.raises(TrainError, match=r"chat_train.jsonl:1: the last message must be an assistant"):
        train_source(tiny_lab, "chat", progress=False)
    with pytest.raises(TrainError, match="unknown source"):
        train_source(tiny_lab, "poems", progress=False)
    tiny_lab.train.chat.qlora = True
    (tiny_lab.data_dir / "chat_train.jsonl").unlink()
    with pytest.raises(TrainError, match="not found"):
        train_source(tiny_lab, "chat", progress=False)


def test_a_half_written_checkpoint_is_not_resumed_from(tmp_path: Path):
    from persona_lab.train.sft import _drop_unfinished_checkpoints, checkpoints

    for step, files in ((2, ("adapter_config.json", "trainer_state.json")), (4, ("adapter_config.json",))):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        for name in files:
            (folder / name).write_text("{}")
    assert list(checkpoints(tmp_path)) == [2]
    _drop_unfinished_checkpoints(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-2"]
