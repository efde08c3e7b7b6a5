"""Telegram Desktop, as exported to JSON ("Export chat history" or "Export Telegram data").

Two layouts (shared/data/EXPORT_FORMATS.md):
  single chat   result.json = {"name", "type", "id", "messages": [message, ...]}
  full account  {"about", "personal_information": {"user_id", ...}, ..., "chats": {"list": [chat, ...]},
                 "left_chats": {"list": [chat, ...]}}   where a chat is the single-chat object above.
Chats the account left (``left_chats``) are read too: the messages in them are as much the person's as any.

Quirks handled:
- ``text`` is a string for one plain run, else a list mixing strings and entity objects
  ``{"type", "text", ...}``; both are flattened to plain text.
- Service messages (``"type": "service"``) carry ``actor``/``actor_id``/``action`` in place of
  ``from``/``from_id``; they become kind "system", or "call" for a phone or group call.
- The kind of a message with media is the media's, even with a caption: the caption describes the media,
  it is not a line of conversation. Forwarded messages (``forwarded_from``, or ``saved_from`` in Saved
  Messages) are "forward" whatever they carry, because the words are someone else's. ``animation``
  (a GIF) counts as a sticker: it is sent as a reaction, like one. ``audio_file`` is "music".
- ``date_unixtime`` (a string of unix seconds) is used when present; older exports only have ``date``,
  local wall-clock time without a zone, read in the lab's timezone.
- Who is me: a full-account export names its owner (``personal_information.user_id``), so
  ``from_id == "user<user_id>"`` decides it. A single-chat export does not say; there a sender listed in
  ``ctx.me`` (by name or ``user…`` id) is me and anyone else is left undecided (None) for the stage.
- Chat metadata (name, type, id) precedes ``messages`` in what Telegram Desktop writes; a file that puts it
  after falls back to the file name for the chat.

Streaming: files run to gigabytes, so nothing is loaded whole. A single-chat file is read with
``ijson.items`` over ``messages.item``, which builds each message in C (~240k records/s end to end on one
core); a full-account file needs to know which chat each message belongs to, so its parse events pass
through a small Python tap that notes chat metadata before ijson builds the messages (~100k records/s:
one Python step per JSON token is the price). A truncated file yields every message read before the cut,
then raises ExportError naming the file and the last message read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import ijson

from persona_lab.errors import ExportError
from persona_lab.ingest.importers import ReadContext
from persona_lab.ingest.records import BadRecord, Message
from persona_lab.timeparse import TimeFormatError, parse_time

GROUP_TYPES = frozenset({"private_group", "private_supergroup", "public_supergroup"})
CHAT_TYPES = frozenset(
    {
        "personal_chat", "bot_chat", "saved_messages", "private_group", "private_supergroup",
        "public_supergroup", "private_channel", "public_channel",
    }
)
CALL_ACTIONS = frozenset({"phone_call", "group_call"})
MEDIA_TYPE_KINDS = {
    "sticker": "sticker",
    "animation": "sticker",
    "voice_message": "voice",
    "video_message": "video",
    "video_file": "video",
    "audio_file": "music",
}
# Keys that make a message non-text when present, checked in this order after forward and media_type.
MEDIA_KEY_KINDS = (
    ("photo", "image"),
    ("file", "file"),
    ("location_information", "location"),
    ("poll", "poll"),
    ("contact_information", "contact_card"),
)
ACCOUNT_KEYS = frozenset({"personal_information", "chats", "left_chats"})
CHAT_LIST_KEYS = ("chats", "left_chats")
SCALAR_EVENTS = frozenset({"string", "number", "boolean", "null"})
BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class Chat:
    chat_id: str
    name: str
    is_group: bool


class TelegramImporter:
    name = "telegram"
    suffixes = (".json",)

    def sniff(self, path: Path, head: str) -> bool:
        start = head.lstrip()[:1]
        if start != "{":
            return False
        if '"personal_information"' in head and '"user_id"' in head:
            return True
        # A single chat: the messages list plus something only Telegram writes.
        return '"messages"' in head and (
            '"date_unixtime"' in head or '"from_id"' in head or _names_chat_type(head)
        )

    def read(self, path: Path, ctx: ReadContext) -> Iterator[Message | BadRecord]:
        reader = _Reader(path, ctx)
        with path.open("rb") as handle:
            try:
                layout, meta = _scan_top_level(handle)
                handle.seek(0)
                _skip_bom(handle)
                if layout == "single":
                    yield from reader.single_chat(handle, meta)
                else:
                    yield from reader.account(handle)
            except ijson.JSONError as exc:
                raise _json_error(path, reader.count, exc) from None


def _names_chat_type(head: str) -> bool:
    return any(f'"{chat_type}"' in head for chat_type in CHAT_TYPES)


def _skip_bom(handle: BinaryIO) -> None:
    if handle.read(3) != BOM:
        handle.seek(0)


def _scan_top_level(handle: BinaryIO) -> tuple[str, dict[str, Any]]:
    """("single" | "account", the chat's scalar keys seen before ``messages``); reads only the head."""
    _skip_bom(handle)
    meta: dict[str, Any] = {}
    for prefix, event, value in ijson.parse(handle, use_float=True):
        if prefix == "" and event not in ("start_map", "map_key"):
            break
        if prefix == "" and event == "map_key":
            if value == "messages":
                return "single", meta
            if value in ACCOUNT_KEYS:
                return "account", meta
        elif prefix in ("name", "type", "id") and event in SCALAR_EVENTS:
            meta[prefix] = value
    raise ExportError(
        f"{handle.name}: not a Telegram export: the top level has no 'messages' list "
        "and no 'personal_information'/'chats' (expected Telegram Desktop's result.json)"
    )


def _json_error(path: Path, count: int, exc: Exception) -> ExportError:
    first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "premature EOF" in str(exc) or "Incomplete" in first_line:
        return ExportError(f"{path}: the JSON is truncated after message {count} ({first_line})")
    return ExportError(f"{path}: invalid JSON after message {count}: {first_line}")


class _Reader:
    """Turns message objects into records; ``count`` is how many message entries were read so far."""

    def __init__(self, path: Path, ctx: ReadContext) -> None:
        self.path = path
        self.file = str(path)
        self.ctx = ctx
        self.count = 0
        self.my_id: str | None = None  # "user<N>" from a full-account export

    def single_chat(self, handle: BinaryIO, meta: dict[str, Any]) -> Iterator[Message | BadRecord]:
        chat = self._chat(meta, fallback=self.path.stem)
        for item in ijson.items(handle, "messages.item", use_float=True):
            self.count += 1
            yield self._record(item, chat)

    def account(self, handle: BinaryIO) -> Iterator[Message | BadRecord]:
        """Walk the top-level keys; stream the messages of every chat in ``chats`` and ``left_chats``."""
        events = iter(ijson.parse(handle, use_float=True))
        for prefix, event, _ in events:  # the opening brace
            if prefix == "" and event == "start_map":
                break
        tap = _AccountTap(events)
        while tap.next_key is not None:
            key = tap.next_key
            if key in CHAT_LIST_KEYS:
                yield from self._chat_list(tap, key)
            else:
                for _ in tap.segment(key):  # contacts, sessions…: parsed past, not built
                    pass
                if tap.user_id is not None:
                    self.my_id = f"user{tap.user_id}"

    def _chat_list(self, tap: _AccountTap, key: str) -> Iterator[Message | BadRecord]:
        chat: Chat | None = None
        chat_number = 0
        for item in ijson.items(tap.segment(key), f"{key}.list.item.messages.item", use_float=True):
            if tap.chat_started:  # the tap saw a new chat object open since the last message
                tap.chat_started = False
                chat_number += 1
                chat = self._chat(tap.chat_meta, fallback=f"{self.path.stem}#{key}{chat_number}")
            self.count += 1
            yield self._record(item, chat)  # type: ignore[arg-type]  # set by the first message

    def _chat(self, meta: dict[str, Any], fallback: str) -> Chat:
        chat_id = meta.get("id")
        name = meta.get("name")
        ident = str(chat_id) if chat_id is not None else fallback
        return Chat(f"telegram:{ident}", str(name) if name is not None else ident, meta.get("type") in GROUP_TYPES)

    def _record(self, item: Any, chat: Chat) -> Message | BadRecord:
        row = self.count
        if not isinstance(item, dict):
            return BadRecord("malformed_row", self.file, row, f"message {row} is a {type(item).__name__}, not an object")
        if "id" not in item or "date" not in item:
            missing = " and ".join(key for key in ("id", "date") if key not in item)
            return BadRecord("malformed_row", self.file, row, f"message {row} has no {missing}")
        try:
            ts = self._time(item)
        except (TimeFormatError, ValueError) as exc:
            return BadRecord("bad_time", self.file, row, f"message id {item['id']}: {exc}")
        is_service = item.get("type") == "service"
        if is_service:
            name, ident = item.get("actor"), item.get("actor_id")
        else:
            name, ident = item.get("from"), item.get("from_id")
        sender = str(name if name is not None else ident if ident is not None else "")
        sender_id = str(ident if ident is not None else sender)
        text = flatten_text(item.get("text", ""))
        kind = kind_of(item, text, is_service)
        return Message(
            chat_id=chat.chat_id,
            chat_name=chat.name,
            is_group=chat.is_group,
            sender=sender,
            sender_id=sender_id,
            is_me=self._is_me(sender, sender_id),
            ts=ts,
            kind=kind,
            text=text if kind == "text" else "",
            file=self.file,
            row=row,
        )

    def _time(self, item: dict[str, Any]) -> float:
        unix = item.get("date_unixtime")
        if unix is not None:
            return float(unix)
        return parse_time(item["date"], self.ctx.timezone)

    def _is_me(self, sender: str, sender_id: str) -> bool | None:
        me = self.ctx.me
        if me and (sender_id in me or sender in me):
            return True
        if self.my_id is not None:
            return sender_id == self.my_id
        return None


class _AccountTap:
    """Passes a full-account export's parse events through, one top-level value at a time, noting on the
    way the owner's user id and each chat's name/type/id, so a message built downstream knows its chat.

    Kept to one dict lookup per event: this loop runs for every token of the file.
    """

    def __init__(self, events: Iterator[tuple[str, str, Any]]) -> None:
        self.events = events
        self.next_key: str | None = None
        self.user_id: Any = None
        self.chat_meta: dict[str, Any] = {}
        self.chat_started = False
        self._watch: dict[str, str] = {"personal_information.user_id": "user_id"}
        for key in CHAT_LIST_KEYS:
            self._watch[f"{key}.list.item"] = "chat"
            for field in ("name", "type", "id"):
                self._watch[f"{key}.list.item.{field}"] = field
        self._find_next_key()

    def _find_next_key(self) -> None:
        self.next_key = None
        for prefix, event, value in self.events:
            if prefix == "" and event == "map_key":
                self.next_key = value
                return

    def segment(self, key: str) -> Iterable[tuple[str, str, Any]]:
        """The events of the value under top-level ``key``; afterwards ``next_key`` is the key after it."""
        self.next_key = None
        watch = self._watch
        for event in self.events:
            prefix = event[0]
            if not prefix:
                if event[1] == "map_key":
                    self.next_key = event[2]
                return
            field = watch.get(prefix)
            if field is not None:
                self._note(field, event[1], event[2])
            yield event

    def _note(self, field: str, event: str, value: Any) -> None:
        if field == "chat":
            if event == "start_map":
                self.chat_meta = {}
                self.chat_started = True
        elif field == "user_id":
            if event in SCALAR_EVENTS:
                self.user_id = value
        elif event in SCALAR_EVENTS:
            self.chat_meta[field] = value


def flatten_text(text: Any) -> str:
    """Plain text from Telegram's ``text``: a string, or a list of strings and ``{"text": ...}`` entities."""
    if isinstance(text, str):
        return text
    if text is None:
        return ""
    if not isinstance(text, list):
        return str(text)
    parts = []
    for part in text:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict):
            parts.append(str(part.get("text", "")))
    return "".join(parts)


def kind_of(item: dict[str, Any], text: str, is_service: bool) -> str:
    if is_service:
        return "call" if item.get("action") in CALL_ACTIONS else "system"
    if "forwarded_from" in item or "saved_from" in item:
        return "forward"
    media_type = item.get("media_type")
    if media_type is not None:
        return MEDIA_TYPE_KINDS.get(media_type, "file")
    for key, kind in MEDIA_KEY_KINDS:
        if key in item:
            return kind
    return "text" if text.strip() else "empty"


IMPORTER = TelegramImporter()
