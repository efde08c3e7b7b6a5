"""WhatsApp, as written by "Export chat" (one .txt per conversation).

Line shapes (shared/data/EXPORT_FORMATS.md):
  iOS      [{timestamp}] {author}: {message}      "[1.1.2019, 12.00.00] John Doe: Hello"
  Android  {timestamp} - {author}: {message}      "06.08.2016, 13:23 - Ash Ketchum: Hey guys!"
Timestamps seen: "DD/MM/YYYY, HH:MM" · "M/D/YY, h:mm AM" (also with U+202F or a plain space before AM/PM)
· "DD.MM.YY, HH:MM" · "[DD/MM/YY, HH:MM:SS]" · "YYYY-MM-DD HH:MM" · "[1.1.2019, 12.00.00]"
· "[15-01-20 02:22:56]" · Finnish "[12.3.2022 klo 14.08.18]". Times are local wall-clock time, read in the
lab's timezone.

Day/month order is decided once per file, from every timestamp in it (a first pass reads them):
  1. a year-first date (YYYY-MM-DD) is unambiguous;
  2. if any first field is > 12 the file is day-first; else if any second field is > 12 it is month-first;
  3. otherwise (no day past the 12th in the whole file) the style decides: the US 12-hour style with
     slashes (M/D/YY, h:mm AM) is month-first, everything else (dotted, dashed, slashed 24-hour) day-first.
A file that has both a first and a second field past 12 is read day-first, and the lines that then make
no date are counted as bad_time.

Other quirks:
- Lines that do not start with a timestamp continue the previous message (joined with "\\n").
- iOS puts U+200E (left-to-right mark) at line starts and before media placeholders; every U+200E is
  removed. On iOS a group event is written as an author line whose author is the group name and whose text
  starts with U+200E ("Pokemon Chat: \\u200eAsh added Misty"); such a line is "system" unless it is a
  media/deleted placeholder.
- Lines with no "author: " part are system notices. The end-to-end encryption notice is "system" even when
  it comes as an author line (iOS groups attribute it to the group name).
- Media: "<Media omitted>" (Android, no type given → "unknown", which breaks a reply chain like any media),
  "image/video/audio/sticker/GIF/document omitted", "Contact card omitted", "<attached: NAME>",
  "NAME (file attached)" (typed from the file name). A GIF counts as a sticker. A caption on the following
  lines does not make a media message text. "This message was deleted" / "You deleted this message" →
  "recall"; "Missed voice/video call" → "call". Only the English strings are recognised; WhatsApp
  localises them.
- Newer exports mark unsaved contacts in groups with "~\\u202f" before the name; it is dropped from the author.
- is_group: WhatsApp does not say, so the first pass also collects authors: more than two distinct authors,
  or a system line with the word "group" in it ("created group", "Messages you send to this group…"), make
  it a group. A group where only two people ever wrote, and whose export has no such line, reads as private.
- The chat is named after the file: "WhatsApp Chat with Alice.txt" → "Alice"; the iOS "_chat.txt" inside
  "WhatsApp Chat - Alice/" takes the folder's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from persona_lab.ingest.importers import ReadContext
from persona_lab.ingest.records import BadRecord, Message
from persona_lab.textio import DecodedLines
from persona_lab.timeparse import zone

LRM = "\u200e"
# One regex for every timestamp style; groups: first, separator, second, third field, hour, minute,
# second, am/pm letter. The date separator must repeat (\2). "] " closes iOS stamps, " - " Android ones.
HEADER = re.compile(
    r"\[?(\d{1,4})([./-])(\d{1,2})\2(\d{2,4}),?\s(?:klo\s)?"
    r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"
    r"(?:[\s\u202f\u00a0]?([AaPp])\.?\s?[Mm]\.?)?"
    r"(?:\] | - )"
)
ENCRYPTION_NOTICE = re.compile(
    r"Messages (?:and calls are end-to-end encrypted"
    r"|(?:you send )?to this (?:group|chat)(?: and calls)? are now secured)"
)
PLACEHOLDER_KINDS = {
    "<media omitted>": "unknown",
    "image omitted": "image",
    "video omitted": "video",
    "audio omitted": "voice",
    "sticker omitted": "sticker",
    "gif omitted": "sticker",
    "document omitted": "file",
    "contact card omitted": "contact_card",
    "this message was deleted": "recall",
    "this message was deleted.": "recall",
    "you deleted this message": "recall",
    "you deleted this message.": "recall",
    "missed voice call": "call",
    "missed video call": "call",
}
PLACEHOLDER_MAX_LEN = max(map(len, PLACEHOLDER_KINDS))
# Attached file names say the media type in their first or second dash-separated part:
# iOS "00000012-PHOTO-2019-01-01-12-00-00.jpg", Android "IMG-20190101-WA0000.jpg". Documents keep
# their own names ("report.pdf (file attached)") and are "file".
ATTACHED = re.compile(r"^<attached: (.+)>$|^(.+) \(file attached\)$")
FILE_NAME_KINDS = {
    "PHOTO": "image", "IMG": "image", "VIDEO": "video", "VID": "video", "AUDIO": "voice", "PTT": "voice",
    "AUD": "voice", "STICKER": "sticker", "STK": "sticker", "GIF": "sticker", "CONTACT": "contact_card",
}
# System lines that only happen in groups ("created group", "changed the group description", "this group").
GROUP_WORD = re.compile(r"\bgroup\b")
CHAT_FILE_PREFIXES = ("WhatsApp Chat with ", "WhatsApp Chat - ")


@dataclass
class FileFacts:
    """What the first pass learns about the whole file."""

    day_first: bool = True
    is_group: bool = False
    authors: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Pending:
    """A message whose continuation lines may still follow."""

    row: int
    ts: float | None  # None: the timestamp made no date
    author: str
    kind: str
    lines: list[str]
    undecodable: bool


class WhatsAppImporter:
    name = "whatsapp"
    suffixes = (".txt",)

    def sniff(self, path: Path, head: str) -> bool:
        # An export starts with a stamped line (often the encryption notice); allow a stray line or two.
        lines = [line for line in head.splitlines()[:8] if line.strip()][:3]
        return any(HEADER.match(line.lstrip(LRM + "\ufeff")) for line in lines)

    def read(self, path: Path, ctx: ReadContext) -> Iterator[Message | BadRecord]:
        facts = scan_file(path, ctx.encoding)
        chat_name = chat_name_of(path)
        reader = _Reader(str(path), ctx, facts, f"whatsapp:{chat_name}", chat_name)
        yield from reader.read(DecodedLines(path, ctx.encoding))


def chat_name_of(path: Path) -> str:
    stem = path.stem
    if stem.startswith("_chat") and path.parent.name:  # iOS: the folder carries the chat's name
        stem = path.parent.name
    for prefix in CHAT_FILE_PREFIXES:
        if stem.startswith(prefix):
            return stem[len(prefix):]
    return stem


def scan_file(path: Path, encoding: str) -> FileFacts:
    """First pass: day/month order and whether the chat is a group (see the module docstring)."""
    facts = FileFacts()
    max_first = max_second = 0
    us_style = False
    known: set[str] = set()  # author parts already classified as a person: most lines need no further look
    for line in DecodedLines(path, encoding):
        if line.startswith(LRM):
            line = line.lstrip(LRM)
        match = HEADER.match(line)
        if match is None:
            continue
        first, separator, second, _, _, _, _, ampm = match.groups()
        if len(first) < 4:
            max_first = max(max_first, int(first))
            max_second = max(max_second, int(second))
            us_style = us_style or (ampm is not None and separator == "/")
        rest = line[match.end():]
        cut = rest.find(": ")
        if cut > 0 and rest[:cut] in known:
            continue
        author, text, kind = classify(rest)
        if kind == "system":
            facts.is_group = facts.is_group or GROUP_WORD.search(text) is not None
        elif author:
            facts.authors.add(author)
            known.add(rest[:cut])
    if max_first > 12:
        facts.day_first = True
    elif max_second > 12:
        facts.day_first = False
    else:
        facts.day_first = not us_style
    facts.is_group = facts.is_group or len(facts.authors) > 2
    return facts


def classify(rest: str) -> tuple[str, str, str]:
    """(author, first line of text, kind) of what follows a timestamp; author "" for a system line."""
    rest = rest.rstrip("\r\n")
    cut = rest.find(": ")
    if cut <= 0:
        return "", rest.replace(LRM, "") if LRM in rest else rest, "system"
    author, text = rest[:cut], rest[cut + 2:]
    lrm_led = False
    if LRM in rest:
        lrm_led = text.startswith(LRM)
        author, text = author.replace(LRM, ""), text.replace(LRM, "")
    if author.startswith("~"):
        author = author.lstrip("~\u202f ")
    if ENCRYPTION_NOTICE.match(text):
        return author, text, "system"
    kind = placeholder_kind(text)
    if kind is None:
        kind = "system" if lrm_led else "text"
    return author, text, kind


def placeholder_kind(text: str) -> str | None:
    """The kind of a media/deleted placeholder line, or None for ordinary text."""
    stripped = text.strip()
    if len(stripped) <= PLACEHOLDER_MAX_LEN:
        kind = PLACEHOLDER_KINDS.get(stripped.lower())
        if kind is not None:
            return kind
    if not stripped.endswith((">", ")")):  # "<attached: …>", "… (file attached)"
        return None
    attached = ATTACHED.match(stripped)
    if attached is None:
        return None
    name = (attached.group(1) or attached.group(2)).upper()
    for part in name.split("-", 2)[:2]:
        kind = FILE_NAME_KINDS.get(part)
        if kind is not None:
            return kind
    return "file"


class _Reader:
    def __init__(self, file: str, ctx: ReadContext, facts: FileFacts, chat_id: str, chat_name: str) -> None:
        self.file = file
        self.me = ctx.me
        self.facts = facts
        self.chat_id = chat_id
        self.chat_name = chat_name
        self.tz = zone(ctx.timezone)

    def read(self, lines: DecodedLines) -> Iterator[Message | BadRecord]:
        pending: Pending | None = None
        for line in lines:
            if line.startswith(LRM):
                line = line.lstrip(LRM)
            match = HEADER.match(line)
            if match is None:
                if pending is not None:
                    pending.lines.append(line.rstrip("\r\n").replace(LRM, ""))
                    if lines.line_no in lines.bad_lines:
                        pending.undecodable = True
                elif line.strip():
                    yield self._orphan(lines, line)
                continue
            if pending is not None:
                yield self._finish(pending)
            author, text, kind = classify(line[match.end():])
            pending = Pending(lines.line_no, self._time(match), author, kind, [text], lines.line_no in lines.bad_lines)
        if pending is not None:
            yield self._finish(pending)

    def _orphan(self, lines: DecodedLines, line: str) -> BadRecord:
        """A non-empty line before the first message: nothing to continue."""
        if lines.line_no in lines.bad_lines:
            return BadRecord("undecodable", self.file, lines.line_no, "the line is not valid text")
        return BadRecord("malformed_row", self.file, lines.line_no, f"no timestamp: {line.strip()[:60]!r}")

    def _time(self, match: re.Match[str]) -> float | None:
        first, _, second, third, hour, minute, sec, ampm = match.groups()
        if len(first) == 4:
            year, month, day = int(first), int(second), int(third)
        elif self.facts.day_first:
            day, month, year = int(first), int(second), int(third)
        else:
            month, day, year = int(first), int(second), int(third)
        if year < 100:
            year += 2000
        h = int(hour)
        if ampm is not None:  # 12 AM is midnight, 12 PM noon
            h = h % 12 + (12 if ampm in "Pp" else 0)
        try:
            return datetime(year, month, day, h, int(minute), int(sec or 0), tzinfo=self.tz).timestamp()
        except ValueError:
            return None

    def _finish(self, pending: Pending) -> Message | BadRecord:
        if pending.undecodable:
            return BadRecord("undecodable", self.file, pending.row, "a line of this message is not valid text")
        if pending.ts is None:
            order = "day" if self.facts.day_first else "month"
            return BadRecord("bad_time", self.file, pending.row, f"the timestamp is no date when read {order}-first")
        kind = pending.kind
        text = ""
        if kind == "text":
            text = pending.lines[0] if len(pending.lines) == 1 else "\n".join(pending.lines).rstrip("\n")
            if not text.strip():
                kind, text = "empty", ""
        author = pending.author
        return Message(
            chat_id=self.chat_id,
            chat_name=self.chat_name,
            is_group=self.facts.is_group,
            sender=author,
            sender_id=author,
            is_me=(author in self.me) if self.me else None,
            ts=pending.ts,
            kind=kind,
            text=text,
            file=self.file,
            row=pending.row,
        )


IMPORTER = WhatsAppImporter()
