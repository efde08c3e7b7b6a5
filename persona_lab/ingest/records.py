"""What importers yield: one ``Message`` per record in an export, or a ``BadRecord`` for a row that could
not be read. Every record read is one of the two, which is what keeps ``read == kept + dropped`` exact.
"""

from __future__ import annotations

from dataclasses import dataclass

# Canonical kinds. Importers map their own type codes onto these names; the name is also the drop
# reason in ingest_report.json, so a user sees "image: 31" rather than "(3, 0): 31".
TEXT = "text"
# Non-text messages that end a reply chain: what follows them is not an answer to what came before.
CHAIN_BREAKING = frozenset(
    {
        "image", "voice", "video", "file", "link", "forward", "quote", "location", "transfer",
        "red_packet", "call", "contact_card", "mini_program", "music", "poll", "unknown",
    }
)
# Non-text messages that are skipped without breaking the chain: they say nothing a reply answers.
SKIPPED = frozenset({"sticker", "system", "recall", "pat", "empty", "add_friend", "invite", "notice"})
# Rows that could not be read at all.
BAD_ROW_REASONS = frozenset({"malformed_row", "bad_time", "undecodable", "missing_text"})
ALL_KINDS = frozenset({TEXT}) | CHAIN_BREAKING | SKIPPED


@dataclass(slots=True)
class Message:
    """One record of an export, text or not, in platform-neutral form."""

    chat_id: str  # unique across files: "<platform>:<conversation id>"
    chat_name: str  # what a person calls the conversation: contact remark, group name
    is_group: bool
    sender: str  # display name, or the platform id when the export has no name
    sender_id: str  # platform id when known, else the display name
    is_me: bool | None  # True/False when the export says so; None: decided from the configured names
    ts: float  # unix seconds, UTC
    kind: str  # TEXT or a non-text kind from the sets above
    text: str  # "" for non-text kinds
    file: str
    row: int  # 1-based row / line / message number inside the file, for messages that name it


@dataclass(slots=True)
class BadRecord:
    """A record that was read but could not be used; counted under ``reason``."""

    reason: str
    file: str
    row: int
    detail: str


