from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from persona_lab.train.sft import TrainError, train_source


def test_training_writes_checkpoints_log_plot_and_manifest_then_reuses(tiny_lab):
    result = train_source(tiny_lab, "chat", progress=False)
    run = result.run_dir
    assert sorted(result.manifest["checkpoints"]) == [2, 4, 6] and result.manifest["steps"] == 6
    losses = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in losses if "loss" in row] == [1, 2, 3, 4, 5, 6]
    assert (run / "loss.png").stat().st_size > 2000
    assert (run / "final" / "adapter_config.json").exists()
    assert result.manifest["tokens"] > 0
    assert losses[-2]["loss"] < losses[0]["loss"]  # it learns (lr 0.01 on 8 repeated replies)
    again = train_source(tiny_lab, "chat", progress=False)
    assert again.skipped and again.manifest["created"] == result.manifest["created"]


def test_loss_falls_on_my_replies_only(tiny_lab):
    from persona_lab.train.base import resolve_base
    from persona_lab.train.sft import _make_trainer, load_messages

    base = resolve_base("tiny-test")
    rows = load_messages(tiny_lab.data_dir / "chat_train.jsonl")[:2]
    trainer = _make_trainer(base, rows, tiny_lab.train.chat, tiny_lab.workspace_dir / "probe", 0,
                            tiny_lab.workspace_dir / "probe.jsonl", progress=False)
    sample = trainer.train_dataset[0]
    kept = [label for label in sample["labels"] if label != -100]
    assert trainer.processing_class.decode(kept) == "可以的<|im_end|>"


def test_resume_after_a_kill_keeps_finished_steps(tiny_lab, tmp_path: Path):
    tiny_lab.train.chat.max_steps = 60
    config_path = tmp_path / "lab.json"
    config_path.write_text(tiny_lab.model_dump_json(), "utf-8")
    code = ("import json,sys; from pathlib import Path; from persona_lab.config import parse_config; "
            "from persona_lab.train.sft import train_source; "
            f"c = parse_config(json.loads(Path({str(config_path)!r}).read_text()), Path('x.yaml')); "
            "train_source(c, 'chat', progress=False)")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    run = tiny_lab.workspace_dir / "adapters" / "chat"
    deadline = time.time() + 120
    while not (run / "checkpoint-6" / "adapter_model.safetensors").exists():
        assert child.poll() is None, child.stderr.read().decode()[-2000:]
        assert time.time() < deadline, "no checkpoint-6 within 120 s"
        time.sleep(0.1)
    child.send_signal(signal.SIGKILL)
    child.wait()
    killed_at = max(int(p.name.split("-")[1]) for p in run.glob("checkpoint-*"))
    assert killed_at < 60
    result = train_source(tiny_lab, "chat", resume=True, progress=False)
    assert result.manifest["resumed"] and result.manifest["steps"] == 60
    steps = [json.loads(line)["step"] for line in (run / "train_log.jsonl").read_text().splitlines()
             if "loss" in json.loads(line)]
    assert steps[0] == 1 and steps[-1] == 60 and sorted(set(steps)) == list(range(1, 61))


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
