"""Property: for any export, every record read is kept or dropped with a reason, and every reply of mine
becomes a training sample, an evaluation item, or a counted evaluation drop."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persona_lab.config import parse_config
from persona_lab.ingest.stage import IngestError, run_ingest

HEADER = ["id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "msg", "src", "CreateTime"]
TYPES = ["文本", "文本", "文本", "图片", "动画表情", "系统通知", "合并转发的聊天记录", "拍一拍", "转账", "未知类型"]
TEXTS = ["好", "哈哈哈", "卧槽", "ok ok", "明天见", "", "多行\n文本", "逗号, 引号\"", "可以的"]

row = st.tuples(
    st.sampled_from(TYPES), st.booleans(), st.sampled_from(TEXTS), st.integers(0, 20_000),
    st.sampled_from(["ok", "ok", "ok", "ok", "bad_sender", "bad_time", "short"]),
)


def render(rows: list[tuple]) -> tuple[str, int]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    clock = 1_700_000_000
    for i, (type_name, mine, text, step, fault) in enumerate(rows):
        clock += step
        fields = [i, 1000 + i, type_name, "1" if mine else "0", "我" if mine else "朋友", "wxid_friend", text, "",
                  f"{clock}"]
        if fault == "bad_sender":
            fields[3] = "2"
        elif fault == "bad_time":
            fields[8] = "not a time"
        elif fault == "short":
            fields = fields[:5]
        writer.writerow(fields)
    return out.getvalue(), len(rows)


# Every export starts with one plain exchange (a friend asks, I answer), so there is always something to keep:
# the property is checked on every example, none can end early. Exports with nothing usable are the next test.
OPENING = [("文本", False, "在吗", 0, "ok"), ("文本", True, "在的", 30, "ok")]


def ingest(text: str, tmp: str, fraction: float = 0.1) -> dict:
    path = Path(tmp) / "wxid_friend_0_5000.csv"
    path.write_text(text, encoding="utf-8")
    config = parse_config({"name": "p", "sources": [{"path": str(path)}], "workspace": str(Path(tmp) / "ws"),
                           "ingest": {"eval_fraction": fraction}}, Path(tmp) / "p.yaml")
    return run_ingest(config, progress=False).report


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, min_size=0, max_size=60), st.sampled_from([0.0, 0.1, 0.5]))
def test_counts_always_add_up(rows: list[tuple], fraction: float):
    text, n_rows = render(OPENING + rows)
    with tempfile.TemporaryDirectory() as tmp:
        report = ingest(text, tmp, fraction)  # an IngestError here fails the test
        total = report["total"]
        assert total["read"] == n_rows
        assert total["read"] == total["kept"] + sum(total["dropped"].values())
        assert total["kept"] >= 2  # the opening exchange, at least
        pairs = report["pairs"]
        assert pairs["replies"] >= 1
        assert pairs["replies"] == pairs["train"] + pairs["eval"] + pairs["eval_dropped"]["reply_seen_in_training"]
        data = Path(tmp) / "ws" / "data"
        train = data.joinpath("chat_train.jsonl").read_text("utf-8").splitlines()
        evals = [json.loads(line) for line in data.joinpath("chat_eval.jsonl").read_text("utf-8").splitlines()]
        assert len(train) == pairs["train"] and len(evals) == pairs["eval"]
        mine_in_train = {m["content"] for line in train for m in json.loads(line)["messages"] if m["role"] == "assistant"}
        assert not {e["reply"] for e in evals} & mine_in_train


unusable = st.tuples(
    st.sampled_from([t for t in TYPES if t != "文本"]), st.booleans(), st.sampled_from(TEXTS), st.integers(0, 20_000),
    st.sampled_from(["ok", "bad_sender", "bad_time", "short"]),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(unusable, min_size=1, max_size=30))
def test_an_export_with_nothing_usable_is_refused_and_writes_no_training_data(rows: list[tuple]):
    text, _ = render(rows)
    with tempfile.TemporaryDirectory() as tmp:
        with pytest.raises(IngestError, match=r"nothing usable was read from 1 file\(s\): 0 text messages"):
            ingest(text, tmp)
        assert not (Path(tmp) / "ws" / "data" / "chat_train.jsonl").exists()
