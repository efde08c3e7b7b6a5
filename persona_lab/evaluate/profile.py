"""What the metrics know about me, read from files alone: a messages-format training file (my replies are
the ``assistant`` turns; other people's lines are the ``user`` turns) and an evaluation file of
``{"id","context","reply"}`` items (``reply`` is what I really said)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

SPEAKER_PREFIX = re.compile(r"^(?:\[NAME#\d+\]|[^:\n]{1,40}):\s")
MARKERS = {"[new conversation]"}


class EvalInputError(ValueError):
    """A file that cannot be scored; the message names the file and line."""


@dataclass
class Profile:
    mine: list[str]  # my training replies
    others: list[str]  # other speakers' lines in my chats (the "not me" examples)
    catchphrases: list[str] = field(default_factory=list)


@dataclass
class EvalItem:
    id: str
    context: list[dict]
    reply: str
    facet: str = ""


def _jsonl(path: Path):
    if not path.exists():
        raise EvalInputError(f"{path}: file not found")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise EvalInputError(f"{path}:{number}: not JSON ({exc.msg})") from None


def split_lines(text: str) -> list[str]:
    """A user turn may hold several people's lines ("name: text" per line in group chats)."""
    out = []
    for line in text.split("\n"):
        line = SPEAKER_PREFIX.sub("", line.strip())
        if line and line not in MARKERS:
            out.append(line)
    return out


def load_profile(path: Path, limit: int = 50_000) -> Profile:
    mine: list[str] = []
    others: list[str] = []
    for number, row in _jsonl(path):
        messages = row.get("messages") if isinstance(row, dict) else None
        if not isinstance(messages, list):
            raise EvalInputError(f"{path}:{number}: not a messages-format sample (no 'messages' list)")
        if row.get("canary"):
            continue
        reply = messages[-1] if messages else None
        if reply and reply.get("role") == "assistant" and len(mine) < limit:
            mine.append(reply["content"])
        for message in messages[:-1]:
            if message.get("role") == "user" and len(others) < limit:
                others.extend(split_lines(message.get("content", "")))
    if not mine:
        raise EvalInputError(f"{path}: no assistant replies: this file says nothing about how I write")
    others = list(dict.fromkeys(others))  # context lines repeat across overlapping samples
    return Profile(mine, others, mine_catchphrases(mine, others))


def load_refs(path: Path) -> list[EvalItem]:
    items = []
    for number, row in _jsonl(path):
        if not isinstance(row, dict) or not isinstance(row.get("reply"), str) or "id" not in row:
            raise EvalInputError(f"{path}:{number}: an evaluation item needs 'id' and 'reply'")
        items.append(EvalItem(str(row["id"]), row.get("context") or [], row["reply"], row.get("facet", "")))
    if not items:
        raise EvalInputError(f"{path}: no evaluation items")
    return items


def load_candidates(path: Path, ids: list[str]) -> tuple[dict[str, str], list[str], list[str]]:
    """Replies by id; returns (replies, ids missing from the file, ids in the file but not in the refs)."""
    replies: dict[str, str] = {}
    for number, row in _jsonl(path):
        if not isinstance(row, dict) or "id" not in row or not isinstance(row.get("reply"), str):
            raise EvalInputError(f"{path}:{number}: a candidate line needs 'id' and 'reply'")
        replies[str(row["id"])] = row["reply"]
    known = set(ids)
    missing = [i for i in ids if i not in replies]
    extra = [i for i in replies if i not in known]
    return {i: r for i, r in replies.items() if i in known}, missing, extra


def mine_catchphrases(mine: list[str], others: list[str], top: int = 30) -> list[str]:
    """My over-used words and two-word phrases (log-odds against the others), strongest first."""
    from collections import Counter

    from persona_lab.ingest.datacard import log_odds, terms

    mine_counts, other_counts = Counter(), Counter()
    for text in mine[:20_000]:
        mine_counts.update(set(terms(text)))
    for text in others[:20_000]:
        other_counts.update(set(terms(text)))
    scored = [(t, z) for t, z, n in log_odds(mine_counts, other_counts, min_count=3) if z > 1.0]
    return [t for t, _ in scored[:top]]
