"""QQ, as exported to .txt by the classic PC client's message manager (消息管理器 → 导出消息记录).

Layout (shared/data/EXPORT_FORMATS.md):
  消息记录（此消息记录为文本格式，不支持重新导入）
  ================================================================
  消息分组:我的好友                    ← or 我的QQ群 / 我的讨论组
  ================================================================
  消息对象:张三                        ← the contact or group: one chat per 消息对象
  ================================================================

  2017-02-25 10:40:20 张三(123456)     ← header: time, then name(QQ number) or name<email>
  body line                            ← one or more lines, up to the next header
  (blank line)

Quirks handled:
- One file can hold several conversations: every 消息分组/消息对象 block after a separator line starts a
  new chat. A file without the block (hand-trimmed) is one chat named after the file.
- In groups a header may carry titles before the name ("【管理员】", "【群主】"); they are dropped.
- The name can contain parentheses ("张三(小张)(123456)"): the QQ number is the last "(digits)".
- A body runs until the next header, so a message with blank lines in it stays whole; the blank line that
  separates messages is removed with any other trailing blank lines.
- "[图片]" (image) and "[表情]" (sticker) stand for what the text export cannot hold. A body made only of
  them is that kind ("image" when any image is among them); in a body with text they are removed and the
  text is kept.
- Notices from QQ itself come from the system account 10000 ("系统消息(10000)") and are "system".
- is_group: the 消息分组 names a group (群) or a discussion group (讨论组).
- The times are local wall-clock time, read in the lab's timezone.
- A body line that is itself shaped like a header (a pasted chat log) starts a new message: the format
  gives no way to tell the two apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from persona_lab.ingest.importers import ReadContext
from persona_lab.ingest.records import BadRecord, Message
from persona_lab.textio import DecodedLines
from persona_lab.timeparse import zone

# Groups: year, month, day, hour, minute, second, name, QQ number, email.
HEADER = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{2}):(\d{2}) (?:【[^】]*】)*(.*?)(?:\((\d+)\)|<([^<>]*)>)\s*$"
)
SECTION = re.compile(r"(消息分组|消息对象)[:：](.*)$")
TITLE_MARK = "不支持重新导入"  # in the title line "消息记录（此消息记录为文本格式，不支持重新导入）"
PLACEHOLDERS = {"[图片]": "image", "[表情]": "sticker"}
SYSTEM_ACCOUNTS = frozenset({"10000"})
GROUP_FOLDER_MARKS = ("群", "讨论组")


@dataclass(slots=True)
class Chat:
    chat_id: str
    name: str
    is_group: bool


@dataclass(slots=True)
class Pending:
    row: int
    ts: float | None
    sender: str
    sender_id: str
    body: list[str]
    undecodable: bool


class QQImporter:
    name = "qq"
    suffixes = (".txt",)

    def sniff(self, path: Path, head: str) -> bool:
        if TITLE_MARK in head or "消息对象:" in head or "消息对象：" in head:
            return True
        # A trimmed export: a separator line and a QQ header line near the top.
        lines = head.splitlines()[:30]
        return any(_is_separator(line) for line in lines) and any(HEADER.match(line) for line in lines)

    def read(self, path: Path, ctx: ReadContext) -> Iterator[Message | BadRecord]:
        return _Reader(path, ctx).read()


def _is_separator(line: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= 3 and stripped.strip("=") == ""


class _Reader:
    def __init__(self, path: Path, ctx: ReadContext) -> None:
        self.path = path
        self.file = str(path)
        self.encoding = ctx.encoding
        self.me = ctx.me
        self.tz = zone(ctx.timezone)
        self.folder = ""  # the current 消息分组
        self.chat = Chat(f"qq:{path.stem}", path.stem, False)

    def read(self) -> Iterator[Message | BadRecord]:
        lines = DecodedLines(self.path, self.encoding)
        pending: Pending | None = None
        after_separator = False
        for raw in lines:
            line = raw.rstrip("\r\n")
            match = HEADER.match(line) if line[:1].isdigit() else None
            if match is not None:
                if pending is not None:
                    yield self._finish(pending)
                pending = self._start(match, lines)
                after_separator = False
                continue
            section = SECTION.match(line.strip()) if after_separator else None
            if section is not None:
                if pending is not None:  # the last message of the previous chat ends here
                    yield self._finish(pending)
                    pending = None
                self._enter(section.group(1), section.group(2).strip())
            elif pending is not None:
                pending.body.append(line)
                if lines.line_no in lines.bad_lines:
                    pending.undecodable = True
            # else: no message yet, so the line is the header block (title, separators, blanks): skipped.
            after_separator = _is_separator(line)
        if pending is not None:
            yield self._finish(pending)

    def _enter(self, key: str, value: str) -> None:
        """A 消息分组 line sets the folder; a 消息对象 line starts a new chat within it."""
        if key == "消息分组":
            self.folder = value
        else:
            is_group = any(mark in self.folder for mark in GROUP_FOLDER_MARKS)
            self.chat = Chat(f"qq:{value}", value, is_group)

    def _start(self, match: re.Match[str], lines: DecodedLines) -> Pending:
        year, month, day, hour, minute, second, name, number, email = match.groups()
        ident = number or email or ""
        name = name.strip()
        try:
            ts: float | None = datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=self.tz
            ).timestamp()
        except ValueError:
            ts = None
        return Pending(lines.line_no, ts, name or ident, ident or name, [], lines.line_no in lines.bad_lines)

    def _finish(self, pending: Pending) -> Message | BadRecord:
        if pending.undecodable:
            return BadRecord("undecodable", self.file, pending.row, "a line of this message is not valid text")
        if pending.ts is None:
            return BadRecord("bad_time", self.file, pending.row, "the header's date and time is not a real time")
        body = pending.body
        while body and (not body[-1].strip() or _is_separator(body[-1]) or TITLE_MARK in body[-1]):
            body.pop()  # the blank line between messages, or the start of the next chat's header block
        text = "\n".join(body)
        kind, text = kind_and_text(text)
        if pending.sender_id in SYSTEM_ACCOUNTS:
            kind, text = "system", ""
        sender, sender_id = pending.sender, pending.sender_id
        me = self.me
        return Message(
            chat_id=self.chat.chat_id,
            chat_name=self.chat.name,
            is_group=self.chat.is_group,
            sender=sender,
            sender_id=sender_id,
            is_me=(sender in me or sender_id in me) if me else None,
            ts=pending.ts,
            kind=kind,
            text=text,
            file=self.file,
            row=pending.row,
        )


def kind_and_text(body: str) -> tuple[str, str]:
    """(kind, text) of a message body: placeholders alone make a non-text kind; beside text they go."""
    if "[" in body:
        stripped = body
        found = []
        for token, kind in PLACEHOLDERS.items():
            if token in stripped:
                found.append(kind)
                stripped = stripped.replace(token, "")
        if found:
            stripped = stripped.strip()
            if not stripped:
                return ("image" if "image" in found else found[0]), ""
            return "text", stripped
    if not body.strip():
        return "empty", ""
    return "text", body


IMPORTER = QQImporter()
