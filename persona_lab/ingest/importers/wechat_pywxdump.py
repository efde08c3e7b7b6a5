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
from collections.abc import Iterator
from pathlib import Path

from persona_lab.ingest.importers import ReadContext
from persona_lab.ingest.importers._csv import read_rows
from persona_lab.ingest.importers._wechat_types import is_group_id, kind_of_type_name
from persona_lab.ingest.records import BadRecord, Message
from persona_lab.ingest.timeparse import TimeFormatError, parse_time

COMMON = ("type_name", "is_sender", "talker", "room_name", "CreateTime")


class PyWxDumpImporter:
    name = "wechat-pywxdump"
    suffixes = (".csv",)

    def sniff(self, path: Path, head: str) -> bool:
        first = head.splitlines()[0] if head else ""
        columns = {c.strip() for c in first.split(",")}
        return set(COMMON) <= columns and ("msg" in columns or "content" in columns)

    def read(self, path: Path, ctx: ReadContext) -> Iterator[Message | BadRecord]:
        fallback_chat = ctx.chat_hint or path.stem.split("_")[0]
        file = str(path)
        rows = read_rows(path, ctx.encoding, COMMON)
        for line, fields, col in rows:
            if fields is None:
                yield BadRecord("undecodable", file, line, "a line of this row is not valid text")
                continue
            if len(fields) != len(col):
                detail = fields[0][14:] if fields and fields[0].startswith("__csv_error__") else (
                    f"{len(fields)} fields, header has {len(col)}")
                yield BadRecord("malformed_row", file, line, detail)
                continue
            yield self._message(fields, col, line, file, fallback_chat, ctx)

    def people(self, path: Path, ctx: ReadContext) -> Iterator[Message]:
        """Senders and chats only, for the contact-names pass: no times, no text decoding of JSON."""
        fallback_chat = ctx.chat_hint or path.stem.split("_")[0]
        for line, fields, col in read_rows(path, ctx.encoding, COMMON):
            if fields is None or len(fields) != len(col):
                continue
            room = fields[col["room_name"]].strip() or fallback_chat
            talker = fields[col["talker"]].strip() or room
            yield Message(f"wechat:{room}", room, is_group_id(room), talker, talker,
                          fields[col["is_sender"]].strip() == "1", 0.0, "text", "", str(path), line)

    @staticmethod
    def _message(
        fields: list[str], col: dict[str, int], line: int, file: str, fallback_chat: str, ctx: ReadContext
    ) -> Message | BadRecord:
        sender_flag = fields[col["is_sender"]].strip()
        if sender_flag not in ("0", "1"):
            return BadRecord("malformed_row", file, line, f"is_sender is {sender_flag!r}, expected 0 or 1")
        try:
            ts = parse_time(fields[col["CreateTime"]], ctx.timezone)
        except TimeFormatError as exc:
            return BadRecord("bad_time", file, line, f"CreateTime: {exc}")
        if "msg" in col:
            text = fields[col["msg"]]
        else:
            try:
                payload = json.loads(fields[col["content"]] or "{}")
                text = str(payload.get("msg", "")) if isinstance(payload, dict) else str(payload)
            except json.JSONDecodeError:
                return BadRecord("malformed_row", file, line, "content is not the JSON {\"src\",\"msg\"} it should be")
        kind = kind_of_type_name(fields[col["type_name"]])
        if "is_forward" in col and fields[col["is_forward"]].strip().lower() in ("1", "true"):
            kind = "forward"
        if kind == "text" and not text.strip():
            kind = "empty"
        room = fields[col["room_name"]].strip() or fallback_chat
        talker = fields[col["talker"]].strip()
        return Message(
            chat_id=f"wechat:{room}",
            chat_name=room,
            is_group=is_group_id(room),
            sender=talker or room,
            sender_id=talker or room,
            is_me=sender_flag == "1",
            ts=ts,
            kind=kind,
            text=text if kind == "text" else "",
            file=file,
            row=line,
        )


IMPORTER = PyWxDumpImporter()
