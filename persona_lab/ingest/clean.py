"""Turning a chat's stream of messages into turns: merge bursts, split sessions, break reply chains.

A person types "好" "那我7点到" "带伞" in five seconds: that is one turn, not three replies. A silence
longer than ``session_gap_s`` starts a new conversation, and a photo, voice note or forwarded chat breaks
the reply chain (text after it answers the media, which we cannot see). Stickers and system lines are
skipped without breaking anything. Only per-chat state is kept (a few turns), so memory does not grow
with the export.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from persona_lab.ingest.records import CHAIN_BREAKING, TEXT, Message


@dataclass(slots=True)
class Turn:
    """One or more consecutive text messages of one sender, merged."""

    chat_id: str
    sender: str
    sender_id: str
    is_me: bool
    ts_first: float
    ts: float  # time of the last merged message
    text: str
    parts: int = 1
    session: int = 0


@dataclass(slots=True)
class PairCandidate:
    """One of my turns with the turns before it in the same session and unbroken chain."""

    chat_id: str
    context: list[Turn]
    reply: Turn


@dataclass
class Conversation:
    """The per-chat state machine. ``on_turn`` receives each finished turn, ``on_pair`` each of my turns."""

    chat_id: str
    merge_window_s: float
    session_gap_s: float
    context_turns: int
    on_turn: Callable[[Turn], None]
    on_pair: Callable[[PairCandidate], None]
    pending: Turn | None = None
    context: deque[Turn] = field(default_factory=deque)
    last_ts: float | None = None
    session: int = 0
    other_speakers: set[str] = field(default_factory=set)

    def add(self, message: Message, is_me: bool, text: str) -> None:
        if message.kind == TEXT:
            self._add_text(message, is_me, text)
        elif message.kind in CHAIN_BREAKING:
            self.flush()
            self.context.clear()
            self._note_time(message.ts)
        # SKIPPED kinds (stickers, system lines, recalls, pats) change nothing.

    def _add_text(self, message: Message, is_me: bool, text: str) -> None:
        self._note_time(message.ts)
        pending = self.pending
        if (
            pending is not None
            and pending.sender_id == message.sender_id
            and message.ts - pending.ts <= self.merge_window_s
        ):
            pending.text += "\n" + text
            pending.ts = max(pending.ts, message.ts)
            pending.parts += 1
            return
        self.flush()
        if not is_me:
            self.other_speakers.add(message.sender_id)
        self.pending = Turn(
            self.chat_id, message.sender, message.sender_id, is_me, message.ts, message.ts, text, 1, self.session
        )

    def _note_time(self, ts: float) -> None:
        """Start a new session after a long silence; exports are in send order, so a small step back is
        clock skew, not a reason to split."""
        if self.last_ts is not None and ts - self.last_ts > self.session_gap_s:
            self.flush()
            self.context.clear()
            self.session += 1
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts

    def flush(self) -> None:
        turn = self.pending
        if turn is None:
            return
        self.pending = None
        turn.session = self.session
        self.on_turn(turn)
        if turn.is_me:
            self.on_pair(PairCandidate(self.chat_id, list(self.context), turn))
        if self.context_turns:
            self.context.append(turn)
            if len(self.context) > self.context_turns:
                self.context.popleft()

    @property
    def looks_like_group(self) -> bool:
        return len(self.other_speakers) > 1
