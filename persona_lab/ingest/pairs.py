"""From a reply candidate to an OpenAI-style message list: others are ``user``, I am ``assistant``.

Consecutive turns of one role are joined into one message, because several chat templates require
user/assistant alternation. In group chats each line of others carries its speaker ("name: text");
with privacy on, the name is the speaker's surrogate (a consistent fake name, privacy.mode surrogate) or a
stable per-chat pseudonym ("[NAME#2]", mode placeholder), never the real one.
A reply with nothing before it in its session opens a conversation: it is kept, and its user turn is
the explicit opener marker, so the model also learns how I start chats.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from persona_lab.config import IngestSettings, facet_phrase
from persona_lab.ingest.clean import PairCandidate, Turn


@dataclass
class Speakers:
    """Per-chat stable pseudonyms for group speakers."""

    reveal_names: bool
    surrogate: Callable[[Turn], str] | None = None  # a fake name per speaker, used instead of [NAME#n]
    _aliases: dict[tuple[str, str], str] = field(default_factory=dict)

    def label(self, turn: Turn) -> str:
        if self.reveal_names:
            return turn.sender
        if self.surrogate is not None:
            return self.surrogate(turn)
        key = (turn.chat_id, turn.sender_id)
        if key not in self._aliases:
            count = sum(1 for chat, _ in self._aliases if chat == turn.chat_id)
            self._aliases[key] = f"[NAME#{count + 1}]"
        return self._aliases[key]


def sample_id(chat_id: str, turn: Turn) -> str:
    digest = hashlib.sha1(f"{chat_id}\x1f{turn.ts_first}\x1f{turn.sender_id}".encode()).hexdigest()
    return f"c-{digest[:14]}"


def system_line(settings: IngestSettings, me: str, facet: str) -> dict[str, str] | None:
    if not settings.facet_in_system_prompt:
        return None
    text = settings.system_prompt.format(me=me, facet=facet, facet_phrase=facet_phrase(facet))
    return {"role": "system", "content": text}


def context_messages(
    candidate: PairCandidate, group: bool, speakers: Speakers, settings: IngestSettings
) -> tuple[list[dict[str, str]], bool]:
    """The context as chat messages, and whether the reply opens the conversation."""
    messages: list[dict[str, str]] = []
    for turn in candidate.context:
        role = "assistant" if turn.is_me else "user"
        text = turn.text
        if group and not turn.is_me and settings.group_speaker_prefix:
            text = f"{speakers.label(turn)}: {text}"
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"] += "\n" + text
        else:
            messages.append({"role": role, "content": text})
    opener = not messages
    if not messages or messages[0]["role"] == "assistant":
        # Templates expect a user turn first; the marker says "nothing was said to you before this".
        messages.insert(0, {"role": "user", "content": settings.opener_marker})
    return messages, opener
