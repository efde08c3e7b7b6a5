"""Two JSON-lines layouts.

dialogue-jsonl  ``{"dialogue_id", "turn", "speaker", "text", "time"?}`` per line: the layout of the
                transcripts in shared/data (Friends, ChatHaruhi, LCCC). A dialogue is one chat; ``time``
                may be a date, a datetime or unix seconds; lines without it are ordered by turn number
                (a per-chat counter stands in for seconds so order survives).
lines-jsonl     ``{"sender", "text", "chat"?, "time"?, "is_me"?, "kind"?}`` per line: the simplest form a
                user can write from any source.
Scene directions ("Scene Directions", "(They all stare)") are not speech: a speaker with that name is
counted as ``system``. A line whose speaker is null (a crowd, an unattributed voice) is speech by
"(unknown speaker)": never me, but context for my replies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from persona_lab.ingest.importers import ReadContext
from persona_lab.ingest.records import ALL_KINDS, BadRecord, Message
from persona_lab.textio import DecodedLines
from persona_lab.timeparse import TimeFormatError, parse_time

UNKNOWN_SPEAKER = "(unknown speaker)"
NON_SPEAKERS = frozenset({"scene directions", "scene", "narrator", "旁白"})


def _first_object(head: str) -> dict[str, Any] | None:
    for line in head.splitlines():
        if line.strip():
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                return None
            return value if isinstance(value, dict) else None
    return None


def _records(path: Path, ctx: ReadContext) -> Iterator[tuple[int, dict[str, Any] | BadRecord]]:
    lines = DecodedLines(path, ctx.encoding)
    for text in lines:
        line_no = lines.line_no
        if not text.strip():
            continue
        if line_no in lines.bad_lines:
            yield line_no, BadRecord("undecodable", str(path), line_no, "not valid text")
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield line_no, BadRecord("malformed_row", str(path), line_no, f"not JSON ({exc.msg})")
            continue
        if not isinstance(value, dict):
            yield line_no, BadRecord("malformed_row", str(path), line_no, "not a JSON object")
            continue
        yield line_no, value


def _is_me(name: str, ctx: ReadContext) -> bool | None:
    return (name in ctx.me) if ctx.me else None


class DialogueImporter:
    name = "dialogue-jsonl"
    suffixes = (".jsonl",)

    def sniff(self, path: Path, head: str) -> bool:
        first = _first_object(head)
        return first is not None and {"dialogue_id", "speaker", "text"} <= first.keys()

    def read(self, path: Path, ctx: ReadContext) -> Iterator[Message | BadRecord]:
        file = str(path)
        clock: dict[str, float] = {}  # per dialogue: the last time seen, to order lines with no time
        for line_no, record in _records(path, ctx):
            if isinstance(record, BadRecord):
                yield record
                continue
            dialogue, speaker, text = record.get("dialogue_id"), record.get("speaker"), record.get("text")
            if speaker is None and "speaker" in record:
                speaker = UNKNOWN_SPEAKER  # transcripts leave crowd lines unattributed; still context
            if not isinstance(dialogue, str) or not isinstance(speaker, str) or not isinstance(text, str):
                yield BadRecord("malformed_row", file, line_no, "dialogue_id, speaker and text must be strings")
                continue
            ts = self._time(record, dialogue, clock, ctx)
            if isinstance(ts, str):
                yield BadRecord("bad_time", file, line_no, ts)
                continue
            kind = "system" if speaker.strip().lower() in NON_SPEAKERS else ("text" if text.strip() else "empty")
            yield Message(
                chat_id=f"dialogue:{dialogue}",
                chat_name=dialogue,
                is_group=False,  # decided by the stage from the number of speakers seen
                sender=speaker,
                sender_id=speaker,
                is_me=_is_me(speaker, ctx),
                ts=ts,
                kind=kind,
                text=text if kind == "text" else "",
                file=file,
                row=line_no,
            )

    @staticmethod
    def _time(record: dict[str, Any], dialogue: str, clock: dict[str, float], ctx: ReadContext) -> float | str:
        """The record's time; lines of one dialogue without their own second get +1 s each, in turn order."""
        raw = record.get("time")
        previous = clock.get(dialogue)
        if raw not in (None, ""):
            try:
                ts = parse_time(raw, ctx.timezone)
            except TimeFormatError as exc:
                return f"time: {exc}"
            # A date-only time ("1994-09-22") repeats for every line of an episode: keep lines in order.
            if previous is not None and ts <= previous:
                ts = previous + 1.0
        else:
            ts = previous + 1.0 if previous is not None else 0.0
        clock[dialogue] = ts
        return ts


class LinesImporter:
    name = "lines-jsonl"
    suffixes = (".jsonl",)

    def sniff(self, path: Path, head: str) -> bool:
        first = _first_object(head)
        return first is not None and {"sender", "text"} <= first.keys() and "dialogue_id" not in first

    def read(self, path: Path, ctx: ReadContext) -> Iterator[Message | BadRecord]:
        file = str(path)
        default_chat = path.stem
        for line_no, record in _records(path, ctx):
            if isinstance(record, BadRecord):
                yield record
                continue
            sender, text = record.get("sender"), record.get("text")
            if not isinstance(sender, str) or not isinstance(text, str):
                yield BadRecord("malformed_row", file, line_no, "sender and text must be strings")
                continue
            try:
                ts = parse_time(record["time"], ctx.timezone) if record.get("time") not in (None, "") else float(line_no)
            except TimeFormatError as exc:
                yield BadRecord("bad_time", file, line_no, f"time: {exc}")
                continue
            kind = str(record.get("kind") or "text")
            if kind not in ALL_KINDS:
                yield BadRecord("malformed_row", file, line_no, f"unknown kind {kind!r}")
                continue
            if kind == "text" and not text.strip():
                kind = "empty"
            is_me = record.get("is_me")
            chat = str(record.get("chat") or default_chat)
            yield Message(
                chat_id=f"lines:{chat}",
                chat_name=chat,
                is_group=bool(record.get("group", False)),
                sender=sender,
                sender_id=sender,
                is_me=bool(is_me) if isinstance(is_me, bool) else _is_me(sender, ctx),
                ts=ts,
                kind=kind,
                text=text if kind == "text" else "",
                file=file,
                row=line_no,
            )


DIALOGUE = DialogueImporter()
LINES = LinesImporter()
