"""The Scrubber: find private values in a message and mask each with a typed placeholder or a surrogate.

A message is never dropped: every value is replaced by ``[TYPE]`` (see ``PLACEHOLDERS``), or by what
``scrub(text, replace=...)`` returns for it (``surrogates.Surrogates``: a consistent realistic fake), and
the rest of the text is kept, so the persona's wording survives. ``Found`` offsets index the ORIGINAL text.

Overlaps: all detectors run, then spans are taken longest first; at equal length the more specific
detector wins (a value after a cue word such as 密码/QQ/微信号, then check-digit-validated numbers, then
plain patterns, then addresses, then names, then blocked words: a word that is both a known name and a
blocked word becomes [NAME]); remaining ties go to the leftmost span.
A span that overlaps one already taken is dropped, so results never overlap.

Idempotence (placeholders): ``scrub(scrub(x).text).text == scrub(x).text``. Surrogates are meant to be
found again (that is how the reply guard masks them), so surrogate text is scrubbed once, at ingest.
Placeholders already in the text are protected: detectors see them as neutral filler and nothing may match inside or across ``[NAME]`` etc.,
so a contact called "NAME" or a blocked word "phone" cannot corrupt them, and "[PHONE]" is no cue word.
Masking can still change what a neighbour looks like (a digit next to a number disappears), so ``find``
searches the masked text again until nothing new turns up.

Speed: most messages hold no private value. One gate regex (``detectors.families``) whose first item is
a character class picks the few detector families that could match (usually none), and one character
class of the names' first characters finds name candidates, so a clean message costs about 2 µs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from persona_lab.privacy.detectors import RANK_BLOCKED, RANK_WORDLIST, Hit, detectors_for, fold_width
from persona_lab.privacy.names import WordMatcher, clean_words, usable_contact_names

TYPES = (
    "PHONE", "ID", "BANKCARD", "EMAIL", "URL", "IP", "QQ", "WXID", "PASSWORD", "ADDRESS", "NAME", "PLATE",
    "BLOCKED",
)
# type -> placeholder text. BLOCKED is for the config's blocked_words.
PLACEHOLDERS: dict[str, str] = {t: f"[{t}]" for t in TYPES}
_PLACEHOLDER_RE = re.compile(r"\[(?:" + "|".join(TYPES) + r")\]")


@dataclass(frozen=True, slots=True)
class Found:
    """One private value: its type (no brackets), the raw value, and its span in the original text."""

    type: str
    value: str
    start: int
    end: int


@dataclass(slots=True)
class ScrubResult:
    """The masked text and what was masked (offsets into the text before masking)."""

    text: str
    found: list[Found] = field(default_factory=list)


def resolve_overlaps(hits: list[Hit]) -> list[Hit]:
    """Non-overlapping hits, longest first, then most specific (lowest rank), then leftmost; sorted by start."""
    if len(hits) <= 1:
        return hits
    ordered = sorted(set(hits), key=lambda h: (h[0] - h[1], h[3], h[0], h[2]))
    taken: list[Hit] = []
    for hit in ordered:
        if all(hit[1] <= t[0] or hit[0] >= t[1] for t in taken):
            taken.append(hit)
    taken.sort()
    return taken


# Placeholders already in a text are hidden behind this filler (same length) before detection: it is
# no letter, digit, separator, place-name character or cue, so "[PHONE] 62345678" is not read as the cue
# word "PHONE" before a number, and "[PASSWORD]" does not trigger the password detector.
_FILLER = "\u3001"  # 、


def _neutralise(text: str, spans: list[tuple[int, int]]) -> str:
    parts, pos = [], 0
    for start, end in spans:
        parts += [text[pos:start], _FILLER * (end - start)]
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


class Scrubber:
    """Masks private values. Build once per lab (the name index is built here), call ``scrub`` per message."""

    def __init__(
        self,
        known_names: Iterable[str] = (),
        extra_names: Iterable[str] = (),
        blocked_words: Iterable[str] = (),
    ) -> None:
        arguments = {"known_names": known_names, "extra_names": extra_names, "blocked_words": blocked_words}
        for arg, value in arguments.items():
            if isinstance(value, str):  # a bare string would be read as one-character names
                raise TypeError(f"{arg} must be a list of strings, not a string")
        self.names = sorted(usable_contact_names(known_names) | clean_words(extra_names))
        self.blocked_words = sorted(clean_words(blocked_words))
        self._names = WordMatcher(self.names)
        self._blocked = WordMatcher(self.blocked_words, ignore_case=True)

    def find(self, text: str) -> list[Found]:
        """Private values in ``text``, non-overlapping, left to right.

        Masking can change what a neighbour looks like ("13800138000(020) 8888 6666": the landline is
        glued to a digit until the mobile becomes [PHONE]), so the masked text is searched again and
        what turns up is added, until nothing new does; this is what makes scrubbing idempotent. It
        costs a second search only for messages that had something to mask.
        """
        found = self._find_once(text)
        for _ in range(_MAX_PASSES):
            if not found:
                break
            masked, pieces = _mask(text, found)
            more = self._find_once(masked)
            if not more:
                break
            found = sorted(found + [_to_original(item, pieces, text) for item in more], key=lambda f: f.start)
        return found

    def _find_once(self, text: str) -> list[Found]:
        protected = [m.span() for m in _PLACEHOLDER_RE.finditer(text)] if "[" in text else []
        probe = _neutralise(text, protected) if protected else text
        hits: list[Hit] = []
        folded = fold_width(probe)
        detectors = detectors_for(folded)
        if detectors:
            for detect in detectors:
                hits += detect(folded)
        if self._names:
            hits += [(start, end, "NAME", RANK_WORDLIST) for start, end in self._names.spans(probe)]
        if self._blocked:
            hits += [(start, end, "BLOCKED", RANK_BLOCKED) for start, end in self._blocked.spans(probe)]
        if not hits:
            return []
        if protected:
            hits = [h for h in hits if all(h[1] <= s or h[0] >= e for s, e in protected)]
        return [Found(kind, text[start:end], start, end) for start, end, kind, _ in resolve_overlaps(hits)]

    def scrub(self, text: str, replace: Callable[[Found], str] | None = None) -> ScrubResult:
        """The text with every found value replaced by its placeholder (or by ``replace(found)``, e.g. a
        ``Surrogates``), and what was found."""
        found = self.find(text)
        if not found:
            return ScrubResult(text, found)
        return ScrubResult(_mask(text, found, replace)[0], found)


_MAX_PASSES = 8  # each pass masks at least one more span; two are the most seen in practice

# An unmasked stretch of text: (start in masked text, end in masked text, start in original text).
_Piece = tuple[int, int, int]


def _mask(
    text: str, found: list[Found], replace: Callable[[Found], str] | None = None
) -> tuple[str, list[_Piece]]:
    """``text`` with each found span replaced by its placeholder (or ``replace(item)``), and where the
    unmasked pieces went."""
    parts: list[str] = []
    pieces: list[_Piece] = []
    pos = out = 0
    for item in found:
        keep = text[pos:item.start]
        parts.append(keep)
        pieces.append((out, out + len(keep), pos))
        out += len(keep)
        placeholder = PLACEHOLDERS[item.type] if replace is None else replace(item)
        parts.append(placeholder)
        out += len(placeholder)
        pos = item.end
    parts.append(text[pos:])
    pieces.append((out, out + len(text) - pos, pos))
    return "".join(parts), pieces


def _to_original(item: Found, pieces: list[_Piece], text: str) -> Found:
    """A span found in masked text, moved to the original text (it lies inside one unmasked piece)."""
    for m_start, m_end, o_start in pieces:
        if m_start <= item.start and item.end <= m_end:
            start = o_start + item.start - m_start
            return Found(item.type, text[start:start + len(item.value)], start, start + len(item.value))
    raise AssertionError(f"span {item} crosses a placeholder")  # _find_once drops those
