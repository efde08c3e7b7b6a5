"""`persona-eval score` on files alone: no model, any system's replies, missing ids reported."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from persona_lab.cli import eval_main
from persona_lab.evaluate.metrics.content import CJKTokenizer
from persona_lab.evaluate.metrics.failures import FailureModes, repeats_itself

MINE = ["可以的", "卧槽 真的假的", "ok ok 稳了", "哈哈哈哈 绝了", "明天再说吧", "行吧 那就这样", "收到", "我看看 emmm",
        "卧槽 笑死", "可以的 周末见"]
OTHERS = ["你今天干嘛了", "晚上吃什么", "周末有空吗", "这个怎么弄", "你看到消息没", "明天几点开会", "我到了",
          "下雨了带伞", "那个文件发我一下", "好久不见啊"]


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    train = [{"messages": [{"role": "user", "content": f"[NAME#1]: {OTHERS[i % 10]}"},
                           {"role": "assistant", "content": MINE[(i * 3) % 10]}]} for i in range(60)]
    refs = [{"id": f"e{i}", "context": [{"role": "user", "content": OTHERS[(i + 3) % 10]}], "reply": MINE[i % 10]}
            for i in range(30)]
    me = [{"id": f"e{i}", "reply": MINE[(i + 1) % 10]} for i in range(30)]
    bot = [{"id": f"e{i}", "reply": "As an AI language model, I am happy to help you with that request today."}
           for i in range(28)]  # two ids missing
    return {"train": write(tmp_path / "train.jsonl", train), "refs": write(tmp_path / "refs.jsonl", refs),
            "me": write(tmp_path / "me.jsonl", me), "bot": write(tmp_path / "bot.jsonl", bot)}


def test_score_command_writes_scores_and_report(files, tmp_path: Path, capsys):
    out = tmp_path / "out"
    code = eval_main(["score", "--profile", str(files["train"]), "--refs", str(files["refs"]), "--candidates",
                      f"me={files['me']}", f"bot={files['bot']}", "--out", str(out), "--weight", "embedding_sim=0",
                      "--n-bootstrap", "50"])
    assert code == 0
    scores = json.loads((out / "scores.json").read_text("utf-8"))
    assert scores["ranking"] == ["me", "bot"]
    bot = scores["variants"]["bot"]
    assert bot["n"] == 28 and bot["missing"] == 2
    assert bot["breakdown"]["failures"]["rate.ai_disclaimer"] == 1.0
    lo, hi = scores["variants"]["me"]["composite_ci"]
    assert 0 <= lo < hi <= 1 and abs(scores["variants"]["me"]["composite"] - (lo + hi) / 2) < hi - lo
    assert "embedding_sim" not in scores["weights"]
    printed = capsys.readouterr().out
    assert "no reply for 2 of 30" in printed and "recommended: me" in printed
    report = (out / "report.md").read_text("utf-8")
    assert "| 1 | me |" in report and "![metrics](metrics.png)" in report
    assert (out / "metrics.png").stat().st_size > 5000 and "data:image/png;base64" in (out / "report.html").read_text()
    assert eval_main(["report", str(out)]) == 0


def test_bad_candidate_file_is_named(files, tmp_path: Path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "e1", "reply": "ok"}\n{"id": "e2"}\n', "utf-8")
    code = eval_main(["score", "--profile", str(files["train"]), "--refs", str(files["refs"]), "--candidates",
                      f"bad={bad}", "--out", str(tmp_path / "o")])
    assert code == 1 and "bad.jsonl:2" in capsys.readouterr().err


def test_rouge_tokenizer_splits_chinese_and_failure_detectors():
    assert CJKTokenizer().tokenize("卧槽 OK ok") == ["卧", "槽", "ok", "ok"]
    assert repeats_itself("哈哈哈哈哈哈哈哈哈哈哈哈") and repeats_itself("I think so I think so I think so")
    assert not repeats_itself("周末一起去打球吧")
    rows = FailureModes().rows(["作为一个人工智能，我不能", "", "卧槽", "好"], ["好"] * 4)
    assert rows[:, 0].tolist() == [1, 0, 0, 0] and rows[:, 3].tolist() == [0, 1, 0, 0]
    assert rows[:, 4].tolist() == [0, 0, 1, 0]
    assert np.isclose(FailureModes().summarise(rows, rows), 1 - (0.25 + 0 + 0 + 0.25 + 0) / 5)
