"""Small original evaluation data: a persona ("me") with a few habits, the friends who write to me, and
held-out conversations. Written for these tests; every line is ours."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

MINE = ["哈哈哈 可以的", "卧槽 真的假的", "ok ok 稳了", "哈哈哈哈 绝了", "明天再说吧", "行吧 那就这样", "收到 马上看",
        "我看看 emmm", "卧槽 笑死", "可以的 周末见", "稳了稳了", "哈哈 我也是", "那必须的", "emmm 再想想",
        "绝了 真的绝了", "今晚吃火锅吧", "代码跑通了 哈哈", "周末打球吗", "可以的 没问题", "卧槽 又加班"]
OTHERS = ["你今天干嘛了呀？", "晚上吃什么呢？", "周末有空吗？我们去爬山吧。", "这个问题怎么处理比较好？",
          "你看到我发的消息了吗？", "明天几点开会？记得准备材料。", "我已经到了，你在哪里？", "外面下雨了，记得带伞。",
          "那个文件麻烦发我一下，谢谢。", "好久不见啊，最近怎么样？", "你妈妈身体还好吗？", "项目进度怎么样了？",
          "周六一起吃饭吗？", "我新买了一本书，很好看。", "今天天气真不错。", "你觉得这个方案可行吗？"]
TOPICS = [("周末打球吗？", "打 周六下午 老地方"), ("晚上吃火锅吗？", "火锅可以的 几点"), ("代码跑通了吗？", "跑通了 哈哈 稳了"),
          ("明天开会吗？", "开 十点 我带电脑"), ("你看那个视频了吗？", "看了 笑死 绝了"), ("下雨了吗？", "下了 我带伞了")]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def training_rows(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        question, answer = TOPICS[i % len(TOPICS)]
        reply = answer if i % 3 == 0 else rng.choice(MINE)
        chatter = f"{rng.choice(OTHERS)}{rng.choice(OTHERS)}"  # my friends write longer, varied lines
        friend = f"[NAME#{1 + i % 2}]: {chatter}\n[NAME#{1 + i % 2}]: {question}"
        rows.append({"id": f"t{i}", "ts": f"2024-01-{1 + i // 40:02d}T{i % 24:02d}:00:00Z", "facet": "friends",
                     "messages": [{"role": "system", "content": "You are 阿澈, chatting with a friend."},
                                  {"role": "user", "content": friend},
                                  {"role": "assistant", "content": reply}]})
    return rows


def eval_rows(n: int, seed: int = 1) -> list[dict]:
    """Conversations of three turns each; my reply answers the question asked."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        question, answer = TOPICS[(i // 3) % len(TOPICS)]
        context = [{"role": "system", "content": "You are 阿澈, chatting with a friend."},
                   {"role": "user", "content": f"[NAME#1]: {rng.choice(OTHERS)}"},
                   {"role": "assistant", "content": f"嗯 第{i // 3}次"},
                   {"role": "user", "content": f"[NAME#2]: {question}"}]
        rows.append({"id": f"e{i}", "facet": "friends" if i % 4 else "family", "context": context,
                     "reply": answer if i % 2 == 0 else rng.choice(MINE), "conversation": f"c{i // 3}"})
    return rows


@pytest.fixture
def persona_files(tmp_path: Path) -> dict[str, Path]:
    return {"train": write_jsonl(tmp_path / "train.jsonl", training_rows(240)),
            "refs": write_jsonl(tmp_path / "refs.jsonl", eval_rows(48))}
