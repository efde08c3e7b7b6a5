"""WeChat, as exported to CSV by MemoTrace (WeChatMsg).

Layout (shared/data/EXPORT_FORMATS.md):
  localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,NickName,Sender
UTF-8 with a BOM; Type/SubType are WeChat's raw integer codes; CreateTime is unix seconds. ``TalkerId``
is the conversation (``…@chatroom`` for groups); Remark/NickName/Sender describe whoever sent the row.
The file sits at ``聊天记录/<remark>/<remark>_utf8.csv``, so the folder names the chat for people.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from persona_lab.ingest.importers import ReadContext
from persona_lab.ingest.importers._csv import read_rows
from persona_lab.ingest.importers._wechat_types import is_group_id, kind_of_codes
from persona_lab.ingest.records import BadRecord, Message
from persona_lab.timeparse import TimeFormatError, parse_time

REQUIRED = ("TalkerId", "Type", "SubType", "IsSender", "CreateTime", "StrContent", "Remark", "NickName", "Sender")


class MemoTraceImporter:
    name = "wechat-memotrace"
    suffixes = (".csv",)

    def sniff(self, path: Path, head: str) -> bool:
        first = head.splitlines()[0] if head else ""
        columns = {c.strip() for c in first.split(",")}
        return {"localId", "TalkerId", "StrContent", "IsSender"} <= columns

    def read(self, path: Path, ctx: ReadContext) -> Iterator[Message | BadRecord]:
        file = str(path)
        folder_name = ctx.chat_hint or path.parent.name
        for line, fields, col in read_rows(path, ctx.encoding, REQUIRED):
            if fields is None:
                yield BadRecord("undecodable", file, line, "a line of this row is not valid text")
                continue
            if len(fields) != len(col):
                yield BadRecord("malformed_row", file, line, f"{len(fields)} fields, header has {len(col)}")
                continue
            yield self._message(fields, col, line, file, folder_name, ctx)

    @staticmethod
    def _message(
        fields: list[str], col: dict[str, int], line: int, file: str, folder_name: str, ctx: ReadContext
    ) -> Message | BadRecord:
        try:
            type_code, sub_type = int(fields[col["Type"]]), int(fields[col["SubType"]])
        except ValueError:
            return BadRecord("malformed_row", file, line, "Type/SubType are not integers")
        flag = fields[col["IsSender"]].strip()
        if flag not in ("0", "1"):
            return BadRecord("malformed_row", file, line, f"IsSender is {flag!r}, expected 0 or 1")
        try:
            ts = parse_time(fields[col["CreateTime"]], ctx.timezone)
        except TimeFormatError as exc:
            return BadRecord("bad_time", file, line, f"CreateTime: {exc}")
        kind = kind_of_codes(type_code, sub_type)
        text = fields[col["StrContent"]]
        if kind == "text" and not text.strip():
            kind = "empty"
        talker = fields[col["TalkerId"]].strip()
        sender_id = fields[col["Sender"]].strip() or talker
        sender = fields[col["Remark"]].strip() or fields[col["NickName"]].strip() or sender_id
        return Message(
            chat_id=f"wechat:{talker}",
            chat_name=folder_name if folder_name and folder_name != "." else talker,
            is_group=is_group_id(talker),
            sender=sender,
            sender_id=sender_id,
            is_me=flag == "1",
            ts=ts,
            kind=kind,
            text=text if kind == "text" else "",
            file=file,
            row=line,
        )


IMPORTER = MemoTraceImporter()
