"""Candidate sets built from real data, for the validity tests and the scoring benchmark.

me        my real held-out replies, shuffled onto other contexts (my voice, wrong content)
other     another person's real lines from the same show (a different voice)
generic   generic chatbot text (no one's voice)
"""

from __future__ import annotations

import json
import random
from pathlib import Path

GENERIC_EN = [
    "That's a great question! I'd be happy to help you with that.",
    "As an AI language model, I don't have personal experiences, but I can share some information.",
    "Thank you for sharing. It's important to take care of yourself and communicate openly.",
    "Here are a few suggestions that might help: 1. Stay positive. 2. Set clear goals. 3. Ask for support.",
    "I understand how you feel. Everyone goes through difficult times, and it's okay to ask for help.",
    "Certainly! Let me know if you have any other questions or if there is anything else I can do.",
    "That sounds interesting. Could you provide more details so I can better assist you?",
    "In summary, there are many factors to consider, and the best choice depends on your situation.",
    "I'm sorry to hear that. Have you considered talking to a professional about it?",
    "Great idea! Planning ahead is always a good way to make sure everything goes smoothly.",
]
GENERIC_ZH = [
    "这是一个很好的问题！我很乐意为您提供帮助。",
    "作为一个人工智能语言模型，我没有个人经历，但我可以为您提供一些信息。",
    "感谢您的分享。照顾好自己并保持沟通是非常重要的。",
    "以下是一些建议：1. 保持积极的心态。2. 设定明确的目标。3. 寻求他人的支持。",
    "我理解您的感受。每个人都会经历困难的时候，寻求帮助是完全可以的。",
    "当然可以！如果您还有其他问题，请随时告诉我。",
    "听起来很有意思。您能提供更多细节以便我更好地帮助您吗？",
    "总之，需要考虑的因素有很多，最佳选择取决于您的具体情况。",
]


def lines_of(path: Path, speaker: str | None = None, limit: int = 5000) -> list[str]:
    out = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if (speaker is None or row.get("speaker") == speaker) and row.get("text", "").strip():
                out.append(row["text"].strip())
    return out[-limit:]


def write_candidates(refs: list[dict], out: Path, other_lines: list[str], generic: list[str], seed: int = 0,
                     generic_fill: list[str] | None = None) -> dict[str, Path]:
    rng = random.Random(seed)
    ids = [r["id"] for r in refs]
    mine = [r["reply"] for r in refs]
    shuffled = mine[1:] + mine[:1]  # a derangement: every reply lands on another context
    sets = {"me": shuffled, "other": rng.sample(other_lines, len(ids)) if len(other_lines) >= len(ids)
            else [rng.choice(other_lines) for _ in ids],
            "generic": [rng.choice(generic_fill or generic) for _ in ids]}
    paths = {}
    out.mkdir(parents=True, exist_ok=True)
    for name, replies in sets.items():
        paths[name] = out / f"{name}.jsonl"
        with paths[name].open("w", encoding="utf-8") as handle:
            for i, reply in zip(ids, replies):
                handle.write(json.dumps({"id": i, "reply": reply}, ensure_ascii=False) + "\n")
    return paths
