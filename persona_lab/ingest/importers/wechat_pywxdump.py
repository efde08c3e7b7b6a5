"""WeChat, as exported to CSV by PyWxDump.

Two layouts (shared/data/EXPORT_FORMATS.md):
  current  id,MsgSvrID,type_name,is_sender,talker,room_name,msg,src,CreateTime[,is_forward]
  old      id,MsgSvrID,type_name,is_sender,talker,room_name,content,CreateTime  (content = JSON {"src","msg"})
``room_name`` is the conversation (a contact's wxid, or ``…@chatroom`` for a group) and ``talker`` the
sender. ``is_sender`` = 1 marks my own messages, so no ``--me`` is needed. CreateTime is local time
("2024/10/4 11:42", "2023-08-12 23:22:41") or unix seconds. Page files ``<wxid>_<start>_<end>.csv`` in
one folder are one chat: the stage reads them in page order and the chat id ties them together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from persona_lab.ingest.importers import ReadContext
from persona_lab.ingest.importers._csv import read_rows
from persona_lab.ingest.importers._wechat_types import is_group_id, kind_of_type_name
from persona_lab.ingest.records import BadRecord, Message
from persona_lab.timeparse import TimeFormatError, parse_time

COMMON = ("type_name", "is_sender", "talker", "room_name", "CreateTime")


_PAGE_SUFFIX = re.compile(r"_\d+_\d+$")


def chat_from_file_name(path: Path) -> str:
    """The chat a page file belongs to when a row has no ``room_name``: ``wxid_ab_c_0_5000`` -> ``wxid_ab_c``
    (wxids contain underscores themselves, so only the trailing page numbers are cut)."""
    return _PAGE_SUFFIX.sub("", path.stem)

class PyWxDumpImporter:
    name = "wechat-pywxdump"
    suffixes = (".csv",)

    def sniff(self, path: Path, head: str) -> bool:
        first = head.splitlines()[0] if head else ""
        columns = {c.strip() for c in first.split(",")}
        return set(COMMON) <= columns and ("msg" in columns or "content" in columns)

    def read(self, path: Path, ctx: ReadContext) -> Iterator[Message | BadRecord]:
        fallback_chat = ctx.chat_hint or chat_from_file_name(path)
        file = str(path)
        tz = ctx.timezone
        rows = read_rows(path, ctx.encoding, COMMON)
        # Column positions and per-file lookups hoisted out of the loop: this is the hot path of ingest.
        i_type = i_sender = i_talker = i_room = i_time = i_text = i_json = i_forward = -1
        n_columns = 0
        kinds: dict[str, str] = {}
        for line, fields, col in rows:
            if n_columns == 0:
                n_columns = len(col)
                i_type, i_sender, i_talker = col["type_name"], col["is_sender"], col["talker"]
                i_room, i_time = col["room_name"], col["CreateTime"]
                i_text, i_json, i_forward = col.get("msg", -1), col.get("content", -1), col.get("is_forward", -1)
            if fields is None:
                yield BadRecord("undecodable", file, line, "a line of this row is not valid text")
                continue
            if len(fields) != n_columns:
                detail = fields[0][14:] if fields and fields[0].startswith("__csv_error__") else (
                    f"{len(fields)} fields, header has {n_columns}")
                yield BadRecord("malformed_row", file, line, detail)
                continue
            sender_flag = fields[i_sender].strip()
            if sender_flag != "0" and sender_flag != "1":
                yield BadRecord("malformed_row", file, line, f"is_sender is {sender_flag!r}, expected 0 or 1")
                continue
            try:
                ts = parse_time(fields[i_time], tz)
            except TimeFormatError as exc:
                yield BadRecord("bad_time", file, line, f"CreateTime: {exc}")
                continue
            text = fields[i_text] if i_text >= 0 else _json_msg(fields[i_json])
            if text is None:
                yield BadRecord("malformed_row", file, line, 'content is not the JSON {"src","msg"} it should be')
                continue
            type_name = fields[i_type]
            kind = kinds.get(type_name)
            if kind is None:
                kind = kinds[type_name] = kind_of_type_name(type_name)
            if i_forward >= 0 and fields[i_forward].strip().lower() in ("1", "true"):
                kind = "forward"
            if kind == "text" and not text.strip():
                kind = "empty"
            room = fields[i_room].strip() or fallback_chat
            talker = fields[i_talker].strip() or room
            yield Message(f"wechat:{room}", room, is_group_id(room), talker, talker, sender_flag == "1", ts, kind,
                          text if kind == "text" else "", file, line)

    def people(self, path: Path, ctx: ReadContext) -> Iterator[Message]:
        """One record per distinct (sender, chat) for the contact-names pass: no times, no text."""
        fallback_chat = ctx.chat_hint or chat_from_file_name(path)
        seen: set[tuple[str, str, str]] = set()
        i_room = i_talker = i_sender = n_columns = -1
        for line, fields, col in read_rows(path, ctx.encoding, COMMON):
            if n_columns < 0:
                n_columns, i_room, i_talker, i_sender = len(col), col["room_name"], col["talker"], col["is_sender"]
            if fields is None or len(fields) != n_columns:
                continue
            key = (fields[i_talker], fields[i_room], fields[i_sender])
            if key in seen:
                continue
            seen.add(key)
            room = key[1].strip() or fallback_chat
            talker = key[0].strip() or room
            yield Message(f"wechat:{room}", room, is_group_id(room), talker, talker, key[2].strip() == "1", 0.0,
                          "text", "", str(path), line)


def _json_msg(content: str) -> str | None:
    """The ``msg`` of the old layout's JSON ``content``; None when it is not that JSON."""
    try:
        payload = json.loads(content or "{}")
    except json.JSONDecodeError:
        return None
    return str(payload.get("msg", "")) if isinstance(payload, dict) else str(payload)


IMPORTER = PyWxDumpImporter()
